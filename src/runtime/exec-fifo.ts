// runc's exec fifo: `create` leaves the container's init blocked opening it for writing,
// `start` opens it for reading (its name is in paths.ts: `start` loads no FFI for it).
import { join } from "node:path";
import { S_IFIFO } from "../sys/constants";
import { mknod, umask } from "../sys/fs";
import { EXEC_FIFO } from "./paths";

/** runc's exec fifo in the container's state dir: `start` opens it for reading, which lets the waiting init go on. */
export function makeExecFifo(stateDir: string): string {
  const path = join(stateDir, EXEC_FIFO);
  const old = umask(0);
  try {
    mknod(path, S_IFIFO | 0o622, 0, 0);
  } finally {
    umask(old);
  }
  return path;
}
