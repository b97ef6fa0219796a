import { renameSync, writeFileSync } from "node:fs";

/**
 * Writes a file so that readers see the old content or the new, never half of it.
 * No fsync: these records describe running processes and live mounts, which a power
 * loss ends anyway; `mycr gc` treats a record lost that way as stale.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}
