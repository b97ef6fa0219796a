import { ptr } from "bun:ffi";
import { AF_UNIX, SOCK_STREAM, SOCK_CLOEXEC, SOL_SOCKET } from "./constants";
import { SYS } from "./arch";
import { libc, check, errno, syscall } from "./libc";
import { SysError } from "./errno";

/** A connected pair of unix stream sockets, both close-on-exec. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair", "AF_UNIX");
  return [fds[0]!, fds[1]!];
}

export function close(fd: number): void {
  libc.close(fd);
}

/** Marks every fd from `first` up close-on-exec (close_range(2), Linux 5.11+). */
export function closeFdsOnExec(first: number): void {
  const CLOSE_RANGE_CLOEXEC = 1 << 2;
  check(syscall(SYS.close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC, 0), "close_range", `${first}, ~0, CLOEXEC`);
}

// SCM_RIGHTS over a unix socket: how init hands the terminal master it opened inside
// the container to the runtime. Layouts are those of x86_64 and aarch64 (LP64).
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const CMSG_HEADER = 16; // cmsg_len (size_t), cmsg_level, cmsg_type
const CMSG_SPACE_ONE_FD = 24; // header + one int, aligned to 8

function msghdr(iov: BigUint64Array, control: Uint8Array): Uint8Array {
  const msg = new Uint8Array(56);
  const v = new DataView(msg.buffer);
  v.setBigUint64(16, BigInt(ptr(iov)), true); // msg_iov
  v.setBigUint64(24, 1n, true); // msg_iovlen
  v.setBigUint64(32, BigInt(ptr(control)), true); // msg_control
  v.setBigUint64(40, BigInt(control.length), true); // msg_controllen
  return msg;
}

/** Sends one byte carrying `fd` as SCM_RIGHTS. */
export function sendFd(socket: number, fd: number): void {
  const byte = new Uint8Array([0x46]);
  const iov = new BigUint64Array([BigInt(ptr(byte)), 1n]);
  const control = new Uint8Array(CMSG_SPACE_ONE_FD);
  const c = new DataView(control.buffer);
  c.setBigUint64(0, BigInt(CMSG_HEADER + 4), true);
  c.setInt32(8, SOL_SOCKET, true);
  c.setInt32(12, SCM_RIGHTS, true);
  c.setInt32(CMSG_HEADER, fd, true);
  check(libc.sendmsg(socket, msghdr(iov, control), 0), "sendmsg", `${socket}, SCM_RIGHTS ${fd}`);
}

/** Blocks until an fd sent with sendFd arrives; it is close-on-exec. Throws at EOF. */
export function receiveFd(socket: number): number {
  const byte = new Uint8Array(1);
  const iov = new BigUint64Array([BigInt(ptr(byte)), 1n]);
  const control = new Uint8Array(CMSG_SPACE_ONE_FD);
  const msg = msghdr(iov, control);
  const n = check(libc.recvmsg(socket, msg, MSG_CMSG_CLOEXEC), "recvmsg", String(socket));
  const controllen = Number(new DataView(msg.buffer).getBigUint64(40, true));
  const c = new DataView(control.buffer);
  if (n === 0 || controllen < CMSG_HEADER + 4 || c.getInt32(8, true) !== SOL_SOCKET || c.getInt32(12, true) !== SCM_RIGHTS) {
    throw new Error("recvmsg: no file descriptor received");
  }
  return c.getInt32(CMSG_HEADER, true);
}

/** A unix stream socket connected to `path` (a --console-socket), close-on-exec. */
export function connectUnix(path: string): number {
  const encoded = Buffer.from(path);
  if (encoded.length >= 108) throw new Error(`socket path too long (${encoded.length} bytes, at most 107): ${path}`);
  const fd = check(libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", "AF_UNIX");
  const addr = new Uint8Array(110); // struct sockaddr_un: sa_family_t, char sun_path[108]
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(encoded, 2);
  if (libc.connect(fd, addr, 2 + encoded.length + 1) < 0) {
    const e = errno();
    libc.close(fd);
    throw new SysError("connect", path, e);
  }
  return fd;
}
