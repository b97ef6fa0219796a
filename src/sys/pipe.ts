import { ptr } from "bun:ffi";
import { O_CLOEXEC, O_NONBLOCK } from "./constants";
import { libc, check } from "./libc";

/** A pipe, both ends close-on-exec: [read, write]. Pass an end to a child through Bun.spawn's stdio. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(libc.pipe2(ptr(fds), O_CLOEXEC), "pipe2", "O_CLOEXEC");
  return [fds[0]!, fds[1]!];
}


const F_GETFL = 3;
const F_SETFL = 4;

/** Makes writes to (or reads from) `fd` fail with EAGAIN instead of waiting: for a pipe end this process must never block on. */
export function setNonBlocking(fd: number): void {
  const flags = libc.fcntl(fd, F_GETFL, 0);
  check(flags, "fcntl", "F_GETFL");
  check(libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl", "F_SETFL O_NONBLOCK");
}
