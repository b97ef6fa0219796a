// Creating and changing entries relative to a directory fd, never following a symlink
// in the last component: how an image layer is written below its root (image/unpack.ts).
import { ptr } from "bun:ffi";
import { libc, check, cstr, errno } from "./libc";
import { fdPath } from "./openat";

export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
const UTIME_OMIT = (1 << 30) - 2;
const ERANGE = 34;
const ENOTSUP = 95;

/** glibc's makedev layout. */
function makedev(major: number, minor: number): bigint {
  return (BigInt(major & 0xfff) << 8n) | (BigInt(major & ~0xfff) << 32n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n);
}

export function mknodat(dirfd: number, name: string, mode: number, major = 0, minor = 0): void {
  check(libc.mknodat(dirfd, cstr(name), mode, makedev(major, minor)), "mknodat", `${dirfd}, ${name}`);
}

export function symlinkat(target: string, dirfd: number, name: string): void {
  check(libc.symlinkat(cstr(target), dirfd, cstr(name)), "symlinkat", `${target}, ${dirfd}, ${name}`);
}

/** A hard link; a symlink as `old` is linked itself, never followed (no AT_SYMLINK_FOLLOW). */
export function linkat(oldDirfd: number, oldName: string, newDirfd: number, newName: string): void {
  check(libc.linkat(oldDirfd, cstr(oldName), newDirfd, cstr(newName), 0), "linkat", `${oldDirfd}, ${oldName}, ${newDirfd}, ${newName}`);
}

export function unlinkat(dirfd: number, name: string, flags = 0): void {
  check(libc.unlinkat(dirfd, cstr(name), flags), "unlinkat", `${dirfd}, ${name}`);
}

/** Owner of the entry itself (a symlink is not followed). */
export function lchownat(dirfd: number, name: string, uid: number, gid: number): void {
  check(libc.fchownat(dirfd, cstr(name), uid, gid, AT_SYMLINK_NOFOLLOW), "fchownat", `${dirfd}, ${name}, ${uid}, ${gid}`);
}

/** Mode of an entry the caller knows is not a symlink (Linux cannot chmod a symlink). */
export function fchmodat(dirfd: number, name: string, mode: number): void {
  check(libc.fchmodat(dirfd, cstr(name), mode, 0), "fchmodat", `${dirfd}, ${name}, 0${mode.toString(8)}`);
}

/** Access and modification time of the entry itself, seconds + nanoseconds; atime left alone. */
export function lutimensat(dirfd: number, name: string, mtimeSec: number, mtimeNsec = 0): void {
  const ts = new BigInt64Array([0n, BigInt(UTIME_OMIT), BigInt(Math.trunc(mtimeSec)), BigInt(mtimeNsec)]);
  check(libc.utimensat(dirfd, cstr(name), ptr(ts), AT_SYMLINK_NOFOLLOW), "utimensat", `${dirfd}, ${name}`);
}

/** Modification time of an open file (atime left alone): no path to resolve again. */
export function futimens(fd: number, mtimeSec: number, mtimeNsec = 0): void {
  const ts = new BigInt64Array([0n, BigInt(UTIME_OMIT), BigInt(Math.trunc(mtimeSec)), BigInt(mtimeNsec)]);
  check(libc.futimens(fd, ptr(ts)), "futimens", `${fd}`);
}

/** An extended attribute on the entry `name` in the directory `dirfd` (not followed if a symlink). */
export function lsetxattrAt(dirfd: number, name: string, key: string, value: Uint8Array): void {
  // "/." names the directory itself: lsetxattr on the bare /proc/self/fd link would act on the link.
  const path = name === "" ? `${fdPath(dirfd)}/.` : `${fdPath(dirfd)}/${name}`;
  const buf = value.length === 0 ? Buffer.alloc(1) : Buffer.from(value);
  check(libc.lsetxattr(cstr(path), cstr(key), ptr(buf), value.length, 0), "lsetxattr", `${path}, ${key}`);
}

/** The value of an extended attribute, or null when the entry has none of that name. */
export function lgetxattr(path: string, key: string): Buffer | null {
  const buf = Buffer.alloc(65536);
  const n = Number(libc.lgetxattr(cstr(path), cstr(key), ptr(buf), buf.length));
  if (n < 0) return null;
  return buf.subarray(0, n);
}

/** An entry's extended attributes: an fd of it (not O_PATH), or a path whose last component is not followed. */
export function xattrsOf(target: number | string): Map<string, Uint8Array> {
  const what = typeof target === "number" ? `fd ${target}` : target;
  const list = (buf: Buffer) => Number(typeof target === "number" ? libc.flistxattr(target, ptr(buf), buf.length) : libc.llistxattr(cstr(target), ptr(buf), buf.length));
  const get = (key: string, buf: Buffer) =>
    Number(typeof target === "number" ? libc.fgetxattr(target, cstr(key), ptr(buf), buf.length) : libc.lgetxattr(cstr(target), cstr(key), ptr(buf), buf.length));
  const out = new Map<string, Uint8Array>();
  for (const key of grow((buf) => list(buf), "listxattr", what).toString("latin1").split("\0")) {
    if (key === "") continue;
    const name = Buffer.from(key, "latin1").toString("utf8");
    out.set(name, new Uint8Array(grow((buf) => get(name, buf), "getxattr", `${what}, ${name}`)));
  }
  return out;
}

/** Calls `fill` with a growing buffer until the answer fits; ENOTSUP (no xattrs on this filesystem) is an empty answer. */
function grow(fill: (buf: Buffer) => number, call: string, detail: string): Buffer {
  for (let size = 4096; ; size *= 16) {
    const buf = Buffer.alloc(size);
    const n = fill(buf);
    if (n >= 0) return buf.subarray(0, n);
    const code = errno();
    if (code === ENOTSUP) return Buffer.alloc(0);
    if (code !== ERANGE || size >= 1 << 20) check(n, call, detail);
  }
}
