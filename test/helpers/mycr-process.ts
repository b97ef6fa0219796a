// Which processes are mycr's: the binary itself (the CLI, monitors), or mycr entering a
// container (init, exec before its execve), which runs from a sealed handle of the
// binary (src/runtime/self.ts) and calls itself "mycr init".
import { readFileSync, readlinkSync, realpathSync } from "node:fs";
import { MYCR } from "./env";

const binary = realpathSync(MYCR);

export function isMycrProcess(pid: number | string): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/exe`) === binary) return true;
    const [argv0, command] = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv0 === "mycr" && command === "init";
  } catch {
    return false; // gone, or a kernel thread
  }
}
