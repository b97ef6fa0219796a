// CVE-2019-5736 class: a container that gets the runtime's own binary executed inside
// it (as "/proc/self/exe", a link to it, or a script whose interpreter is it) can
// reopen that binary through /proc/PID/exe and overwrite it on the host. init's
// /proc/self/exe is the host's mycr binary until execve, so init refuses any program
// that would run it, and init is not dumpable, so no container process can open
// /proc/1/exe while it runs (execve makes the container's program dumpable again).
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { ExecError } from "./lookpath";
import { decodeBytes, encodeBytes } from "../sys/bytes";

/** The kernel follows at most this many "#!" interpreters (BINPRM_MAX_RECURSION). */
const MAX_INTERPRETERS = 4;

function identity(path: string): string | null {
  try {
    const st = statSync(encodeBytes(path)); // the exact bytes execve will get

    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** The interpreter named on a script's "#!" line, or null. */
function interpreterOf(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(encodeBytes(path), "r");
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    // Decoded losing no byte: the kernel reads the interpreter's path as bytes, and so must we.
    const text = decodeBytes(head.subarray(0, n));
    if (!text.startsWith("#!")) return null;
    const line = text.slice(2).split("\n")[0]!.trim();
    return line.split(/[ \t]/)[0] || null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function refuseSelfExec(path: string, name: string): void {
  const self = identity("/proc/self/exe");
  if (self === null) return;
  let current: string | null = path;
  for (let depth = 0; current !== null && depth <= MAX_INTERPRETERS; depth++) {
    if (identity(current) === self) {
      throw new ExecError(`"${name}": refusing to run the mycr binary itself inside the container (it could be overwritten through /proc/self/exe)`, 126);
    }
    current = interpreterOf(current);
  }
}
