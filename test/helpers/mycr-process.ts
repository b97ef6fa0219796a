// Which processes are mycr's: the binary itself (the CLI, monitors), or mycr entering a
// container (init, exec before its execve), which runs from a sealed handle of the
// binary (src/runtime/self.ts) started as /proc/<runtime pid>/fd/<n>.
import { readFileSync, readlinkSync, realpathSync } from "node:fs";
import { MYCR } from "./env";

const binary = realpathSync(MYCR);
const SEALED_ARGV0 = /^\/proc\/\d+\/fd\/\d+$/;

export function isMycrProcess(pid: number | string): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/exe`) === binary) return true;
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return SEALED_ARGV0.test(argv0);
  } catch {
    return false; // gone, or a kernel thread
  }
}
