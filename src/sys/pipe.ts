import { ptr } from "bun:ffi";
import { O_CLOEXEC } from "./constants";
import { libc, check } from "./libc";

/** A pipe, both ends close-on-exec: [read, write]. Pass an end to a child through Bun.spawn's stdio. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(libc.pipe2(ptr(fds), O_CLOEXEC), "pipe2", "O_CLOEXEC");
  return [fds[0]!, fds[1]!];
}

