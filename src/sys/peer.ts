// The process at the other end of a unix socket, and copies of its open files: how the
// supervisor serves a foreground `run` for the client that asked (engine/served-run-peer.ts).
import { SYS } from "./arch";
import { SOL_SOCKET } from "./constants";
import { check, errno, libc, syscall } from "./libc";

const SO_PEERCRED = 17;
/** A pidfd of the peer as it connected (Linux 6.5). */
const SO_PEERPIDFD = 77;
const ENOPROTOOPT = 92;
const ESRCH = 3;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;

export interface PeerCredentials {
  /** In our PID namespace; 0 when the peer's is not visible from it. */
  pid: number;
  uid: number;
  gid: number;
}

export function peerCredentials(socket: number): PeerCredentials {
  const cred = new Int32Array(3); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
  check(libc.getsockopt(socket, SOL_SOCKET, SO_PEERCRED, cred, new Uint32Array([12])), "getsockopt", "SO_PEERCRED");
  return { pid: cred[0]!, uid: cred[1]! >>> 0, gid: cred[2]! >>> 0 };
}

/** Whether the peer closed its end (it exited, or let go of the connection). */
function peerClosed(socket: number): boolean {
  const pollfd = new Int16Array(4); // struct pollfd { int fd; short events, revents; }
  new Int32Array(pollfd.buffer, 0, 1)[0] = socket;
  pollfd[2] = POLLRDHUP;
  check(libc.poll(pollfd, 1, 0), "poll", `${socket}, POLLRDHUP`);
  return (pollfd[3]! & (POLLHUP | POLLRDHUP)) !== 0;
}

/**
 * A pidfd of the process that connected to `socket`. The kernel's own where it has one;
 * else pidfd_open of the pid the credentials name, kept only if the peer's end is still
 * open afterwards: then the peer lived when its pid was opened, so the pid was still its.
 */
export function peerPidfd(socket: number, pid: number): number {
  const fd = new Int32Array(1);
  if (libc.getsockopt(socket, SOL_SOCKET, SO_PEERPIDFD, fd, new Uint32Array([4])) === 0) return fd[0]!;
  if (errno() !== ENOPROTOOPT) check(-1, "getsockopt", "SO_PEERPIDFD");
  const opened = check(syscall(SYS.pidfd_open, pid, 0), "pidfd_open", String(pid));
  if (!peerClosed(socket)) return opened;
  libc.close(opened);
  throw new Error(`the process ${pid} left before its pid could be opened`);
}

/** A copy (close-on-exec) of the file descriptor `target` of the process `pidfd` refers to. */
export function pidfdGetfd(pidfd: number, target: number): number {
  return check(syscall(SYS.pidfd_getfd, pidfd, target, 0), "pidfd_getfd", String(target));
}

/** Whether the process `pidfd` refers to is still alive (not yet exited). */
export function pidfdAlive(pidfd: number): boolean {
  if (Number(syscall(SYS.pidfd_send_signal, pidfd, 0, 0, 0)) === 0) return true;
  if (errno() === ESRCH) return false;
  check(-1, "pidfd_send_signal", "0"); // throws, naming errno
  return false;
}
