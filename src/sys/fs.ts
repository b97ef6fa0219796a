import { ptr } from "bun:ffi";
import { SYS } from "./arch";
import { libc, check, cstr, syscall } from "./libc";

export function pivotRoot(newRoot: string, putOld: string): void {
  const a = cstr(newRoot);
  const b = cstr(putOld);
  check(syscall(SYS.pivot_root, ptr(a), ptr(b), 0, 0), "pivot_root", `${newRoot}, ${putOld}`);
}

export function chroot(path: string): void {
  check(libc.chroot(cstr(path)), "chroot", path);
}

export function chdir(path: string): void {
  check(libc.chdir(cstr(path)), "chdir", path);
}

export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc's makedev layout
  const dev =
    (BigInt(major & 0xfff) << 8n) |
    (BigInt(major & ~0xfff) << 32n) |
    BigInt(minor & 0xff) |
    (BigInt(minor & ~0xff) << 12n);
  check(libc.mknod(cstr(path), mode, dev), "mknod", path);
}

export function umask(mask: number): number {
  return libc.umask(mask);
}
