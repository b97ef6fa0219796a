// The running kernel's release ("6.1.0-28-amd64"), as uname(2) gives it. Read from /proc
// rather than node:os: loading node:os costs about a millisecond of CPU at every start.
import { readFileSync } from "node:fs";

let release: string | undefined;

export function kernelRelease(): string {
  if (release !== undefined) return release;
  try {
    release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    release = (require("node:os") as typeof import("node:os")).release(); // no /proc: uname(2) itself
  }
  return release;
}
