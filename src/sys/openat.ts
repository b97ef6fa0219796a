// fd-relative path calls: how paths inside an untrusted root filesystem are opened
// without ever following a symlink out of it (see runtime/rootfs/paths.ts).
import { ptr } from "bun:ffi";
import { libc, check, cstr, errno, syscall } from "./libc";
import { SYS } from "./arch";
import { AT_FDCWD, O_CLOEXEC, O_PATH } from "./constants";

/** openat2 resolve flags (linux/openat2.h). */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
} as const;

export const O_DIRECTORY = SYS.O_DIRECTORY;
export const O_NOFOLLOW = SYS.O_NOFOLLOW;

const EAGAIN = 11;

/**
 * openat2(2) (Linux 5.6+); throws SysError, ENOSYS where the kernel lacks it. A scoped
 * lookup (RESOLVE_IN_ROOT, RESOLVE_BENEATH) fails with EAGAIN when a rename or mount
 * elsewhere raced it; the man page says to retry, so it is retried here.
 */
export function openat2(dirfd: number, path: string, flags: number, resolve: number): number {
  const how = new BigUint64Array([BigInt(flags), 0n, BigInt(resolve)]); // struct open_how { flags, mode, resolve }
  const p = cstr(path);
  for (let attempt = 1; ; attempt++) {
    const r = syscall(SYS.openat2, dirfd, ptr(p), ptr(how), how.byteLength);
    if (Number(r) >= 0 || attempt >= 8 || errno() !== EAGAIN) return check(r, "openat2", `${dirfd}, ${path}`);
  }
}

export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return check(libc.openat(dirfd, cstr(path), flags, mode), "openat", `${dirfd === AT_FDCWD ? "" : `${dirfd}, `}${path}`);
}

/** An O_PATH fd for a host path: a handle on a place, good for *at calls and /proc/self/fd. */
export function openPath(path: string, extraFlags = 0): number {
  return openat(AT_FDCWD, path, O_PATH | O_CLOEXEC | extraFlags);
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  check(libc.mkdirat(dirfd, cstr(name), mode), "mkdirat", `${dirfd}, ${name}`);
}

/** The target of the symlink `fd` refers to (an O_PATH|O_NOFOLLOW fd of the link itself). */
export function readlinkFd(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = check(libc.readlinkat(fd, cstr(""), buf, buf.length), "readlinkat", `${fd}, ""`);
  return buf.toString("utf8", 0, n);
}

/** The path through which mount(2) and friends reach what `fd` refers to. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
