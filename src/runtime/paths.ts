// Where runtime state lives. /run/mycr is gone at reboot, like /run/runc.
import { join } from "node:path";

export function stateRoot(): string {
  return process.env.MYCR_STATE || "/run/mycr";
}

export function containerStateDir(id: string, root = stateRoot()): string {
  return join(root, id);
}

/** Compiled seccomp programs, shared by containers with the same profile; under MYCR_ROOT. */
export function seccompCacheDir(): string {
  return join(process.env.MYCR_ROOT || "/var/lib/mycr", "cache", "seccomp");
}
