// Where runtime state lives. /run/mycr is gone at reboot, like /run/runc; an ordinary
// user's OCI face keeps it in $XDG_RUNTIME_DIR/mycr (runc: $XDG_RUNTIME_DIR/runc), a
// per-user tmpfs that logout and reboot empty.
import { join } from "node:path";
import { ContainerError } from "./errors";
import { isHostRoot } from "./rootless";

/**
 * Whether the host's places (/run/mycr, /var/lib/mycr) are ours: root on the host, or
 * root of a user namespace that a root login made (USER=root, as runc decides). Root of
 * an ordinary user's namespace (rootless podman runs its runtime so) uses the user's.
 */
function usesHostPlaces(): boolean {
  if (isHostRoot()) return true;
  return process.getuid?.() === 0 && (!process.env.XDG_RUNTIME_DIR || process.env.USER === "root");
}

export function stateRoot(): string {
  if (process.env.MYCR_STATE) return process.env.MYCR_STATE;
  if (usesHostPlaces()) return "/run/mycr";
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (!runtimeDir) {
    // a shared place such as /tmp would be another user's to tamper with
    throw new ContainerError(`XDG_RUNTIME_DIR is not set: without root, container state goes to $XDG_RUNTIME_DIR/mycr; set it (e.g. /run/user/${process.getuid?.()}, yours, mode 0700) or give --root DIR`);
  }
  return join(runtimeDir, "mycr");
}

export function containerStateDir(id: string, root = stateRoot()): string {
  return join(root, id);
}

/** runc's exec fifo in a created container's state dir (exec-fifo.ts makes it, `start` opens it). */
export const EXEC_FIFO = "exec.fifo";

/**
 * Compiled seccomp programs, shared by containers with the same profile; under MYCR_ROOT
 * (an ordinary user's: under $XDG_CACHE_HOME/mycr or ~/.cache/mycr).
 */
export function seccompCacheDir(): string {
  if (process.env.MYCR_ROOT || usesHostPlaces()) return join(process.env.MYCR_ROOT || "/var/lib/mycr", "cache", "seccomp");
  const cacheHome = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, ".cache") : join(stateRoot(), ".cache"));
  return join(cacheHome, "mycr", "seccomp");
}
