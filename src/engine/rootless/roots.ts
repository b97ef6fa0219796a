// Where a rootless mycr keeps its files, as podman does: runtime state in
// $XDG_RUNTIME_DIR/mycr (a per-user tmpfs, emptied at logout and reboot like /run/mycr),
// storage in $XDG_DATA_HOME/mycr or ~/.local/share/mycr. MYCR_STATE and MYCR_ROOT win.
import { accessSync, constants, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ContainerError } from "../../runtime/errors";

export interface RootlessRoots {
  state: string;
  data: string;
}

export function rootlessRoots(env: Record<string, string | undefined>, uid: number): RootlessRoots {
  const state = env.MYCR_STATE || (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "mycr") : undefined);
  if (!state) {
    throw new ContainerError(
      `XDG_RUNTIME_DIR is not set: rootless mycr keeps container state in $XDG_RUNTIME_DIR/mycr; ` +
        `log in through a session that sets it (pam_systemd), or set XDG_RUNTIME_DIR (e.g. /run/user/${uid}, owned by you, mode 0700) or MYCR_STATE`,
    );
  }
  const dataHome = env.XDG_DATA_HOME || (env.HOME ? join(env.HOME, ".local", "share") : undefined);
  const data = env.MYCR_ROOT || (dataHome ? join(dataHome, "mycr") : undefined);
  if (!data) throw new ContainerError("neither XDG_DATA_HOME nor HOME is set: rootless mycr keeps images in $XDG_DATA_HOME/mycr (or ~/.local/share/mycr); set one, or MYCR_ROOT");
  if (env.MYCR_STATE) mustBeYours("MYCR_STATE", state, uid, "$XDG_RUNTIME_DIR/mycr");
  if (env.MYCR_ROOT) mustBeYours("MYCR_ROOT", data, uid, "~/.local/share/mycr");
  return { state, data };
}

/** A root given by variable must be one the user can write (or create): say so before anything starts. */
function mustBeYours(variable: string, path: string, uid: number, fallback: string): void {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new ContainerError(`${variable}=${path}: not writable by you (uid ${uid}); unset ${variable} to use ${fallback}, or name a directory you own`);
  }
}
