/** A 64-hex-digit container id; its first 12 digits are the short id and default hostname. */
export function newContainerId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Buffer.from(bytes).toString("hex");
}
