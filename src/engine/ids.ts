import { randomBytes } from "node:crypto";

/** A 64-hex-digit container id; its first 12 digits are the short id and default hostname. */
export function newContainerId(): string {
  return randomBytes(32).toString("hex");
}
