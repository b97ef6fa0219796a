// kill(2) through Bun's own process.kill: the same system call as libc's, without binding
// libc, so the OCI verbs that only send signals (`kill`, `delete`) load no FFI at all
// (docs/performance.md, "A lean light path for the OCI verbs").
import { SysError } from "./errno";

/** kill(2); returns false instead of throwing when the process is gone (ESRCH). */
export function kill(pid: number, signal: number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    const { code, errno } = e as NodeJS.ErrnoException;
    if (code === "ESRCH") return false;
    if (typeof errno !== "number") throw e;
    throw new SysError("kill", `${pid}, ${signal}`, Math.abs(errno));
  }
}
