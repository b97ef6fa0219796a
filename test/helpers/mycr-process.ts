// Which processes run this mycr binary: the CLI and monitors run the file itself; mycr
// entering a container (init, exec before its execve) runs a sealed handle of it
// (src/runtime/self.ts): a read-only overlay or bind of the same file, which shows the
// file's inode, size and mtime on a device of its own. Processes of other mycr builds
// (other checkouts' test runs on the same machine) are not ours.
import { readlinkSync, realpathSync, statSync } from "node:fs";
import { MYCR } from "./env";

const binary = realpathSync(MYCR);
const { ino, size, mtimeMs } = statSync(binary);

export function isMycrProcess(pid: number | string): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/exe`) === binary) return true;
    const exe = statSync(`/proc/${pid}/exe`);
    return exe.ino === ino && exe.size === size && exe.mtimeMs === mtimeMs;
  } catch {
    return false; // gone, or a kernel thread
  }
}
