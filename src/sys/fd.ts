import { FD_CLOEXEC, F_GETFD, F_SETFD, AF_UNIX, SOCK_STREAM, SOCK_CLOEXEC } from "./constants";
import { SYS } from "./arch";
import { libc, check } from "./libc";

/** A connected pair of unix stream sockets, both close-on-exec. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair", "AF_UNIX");
  return [fds[0]!, fds[1]!];
}

export function setCloexec(fd: number, on: boolean): void {
  const flags = check(libc.fcntl(fd, F_GETFD, 0), "fcntl", `${fd}, F_GETFD`);
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  check(libc.fcntl(fd, F_SETFD, next), "fcntl", `${fd}, F_SETFD`);
}

export function close(fd: number): void {
  libc.close(fd);
}

/** Marks every fd from `first` up close-on-exec (close_range(2), Linux 5.11+). */
export function closeFdsOnExec(first: number): void {
  const CLOSE_RANGE_CLOEXEC = 1 << 2;
  check(libc.syscall(SYS.close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC, 0), "close_range", `${first}, ~0, CLOEXEC`);
}
