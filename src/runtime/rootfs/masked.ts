// linux.maskedPaths and linux.readonlyPaths, applied inside the new root.
import { lstatSync } from "node:fs";
import { MS, SysError, bind, mount } from "../../sys";

function statOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Hides a path: /dev/null over a file, an empty read-only tmpfs over a directory. */
export function maskPath(path: string): void {
  const st = statOrNull(path);
  if (!st) return;
  if (st.isDirectory()) mount("tmpfs", path, "tmpfs", MS.RDONLY, null);
  else bind("/dev/null", path, false);
}

export function makeReadonly(path: string): void {
  if (!statOrNull(path)) return;
  bind(path, path, true);
  try {
    mount(null, path, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC, null);
  } catch (e) {
    // remount needs the flags the mount already has (nosuid/nodev/noexec) when they are locked
    if (!(e instanceof SysError) || e.errno !== 1) throw e;
    mount(null, path, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC | MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
  }
}
