// A read-only handle on a program file that nobody can reopen for writing: how mycr's
// own binary enters a container (CVE-2019-5736). A process in the container that gets
// the binary executed there (interpreter lines, /proc/PID/exe, its own dynamic loader)
// holds only this handle, and every open of it for writing fails with EROFS because
// the kernel says so — not because a check of ours looked at a path first.
//
// Three ways, best first:
// - overlay (Linux 6.15+): a private overlayfs whose only layers are the binary's
//   directory and an empty tmpfs, attached nowhere. An overlay without an upper layer is read-only at
//   the superblock, so even clearing the mount's read-only flag (mount_setattr needs
//   CAP_SYS_ADMIN) leaves writes refused. No copy; page cache shared with the file.
// - bind: open_tree(OPEN_TREE_CLONE) of the file itself, made read-only with
//   mount_setattr (Linux 5.12). Read-only at the mount, attached nowhere.
// - memfd: a sealed in-memory copy (the kernels without the new mount API): correct,
//   but it copies the whole executable once per mycr process that needs it.
import { ptr } from "bun:ffi";
import { basename, dirname } from "node:path";
import { SYS } from "./arch";
import { check, cstr, libc, syscall } from "./libc";
import { close } from "./fd";
import { AT_EMPTY_PATH, AT_FDCWD, O_CLOEXEC, O_RDONLY } from "./constants";
import { MOUNT_ATTR, detachedMount } from "./new-mount";
import { openat } from "./openat";
import { kernelRelease } from "./kernel";

export type SealKind = "overlay" | "bind" | "memfd";

export interface SealedFile {
  /** Close-on-exec, read-only; exec it as /proc/<our pid>/fd/<fd>. */
  fd: number;
  kind: SealKind;
}

const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = O_CLOEXEC;
const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
const F_SEAL = { SEAL: 1, SHRINK: 2, GROW: 4, WRITE: 8 } as const;
const LOCKED = MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV;

/** overlayfs separates lower layers with ':' and reads '\' as an escape. */
function escapeLayer(dir: string): string {
  return dir.replace(/[\\:,]/g, (c) => `\\${c}`);
}

/**
 * Detached mounts as overlay layers came with Linux 6.15; an older kernel refuses them
 * and logs "failed to clone lowerpath" for every try, so it is not tried there.
 */
function overlayTakesDetachedLayers(): boolean {
  const [major = 0, minor = 0] = kernelRelease().split(".").map((n) => Number.parseInt(n, 10));
  return major > 6 || (major === 6 && minor >= 15);
}

function overlaySeal(path: string): number {
  if (!overlayTakesDetachedLayers()) throw new Error("overlay: this kernel takes no detached layers");
  const empty = detachedMount("tmpfs", [{ key: "size", value: "4k" }, { key: "mode", value: "0500" }], MOUNT_ATTR.RDONLY);
  try {
    // Two layers: an overlay without an upper layer needs at least two lower ones.
    const lower = `${escapeLayer(dirname(path))}:/proc/self/fd/${empty}`;
    const mnt = detachedMount("overlay", [{ key: "lowerdir", value: lower }], LOCKED);
    try {
      return openat(mnt, basename(path), O_RDONLY | O_CLOEXEC);
    } finally {
      close(mnt);
    }
  } finally {
    close(empty);
  }
}

function bindSeal(path: string): number {
  const p = cstr(path);
  const fd = check(syscall(SYS.open_tree, AT_FDCWD, ptr(p), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), "open_tree", path);
  try {
    const attr = new BigUint64Array([BigInt(LOCKED), 0n, 0n, 0n]); // struct mount_attr { set, clr, propagation, userns_fd }
    const empty = cstr("");
    check(syscall(SYS.mount_setattr, fd, ptr(empty), AT_EMPTY_PATH, ptr(attr), attr.byteLength), "mount_setattr", `${path}, ro`);
    return fd;
  } catch (e) {
    close(fd);
    throw e;
  }
}

function memfdSeal(path: string): number {
  const name = cstr("mycr-sealed");
  const fd = check(syscall(SYS.memfd_create, ptr(name), MFD_CLOEXEC | MFD_ALLOW_SEALING), "memfd_create", path);
  try {
    const src = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    try {
      // sendfile, not copy_file_range: the latter refuses to cross into shmem (EXDEV).
      while (check(syscall(SYS.sendfile, fd, src, 0, 1 << 30), "sendfile", path) > 0);
    } finally {
      close(src);
    }
    check(libc.fcntl(fd, F_ADD_SEALS, F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE), "fcntl", "F_ADD_SEALS");
    return fd;
  } catch (e) {
    close(fd);
    throw e;
  }
}

const WAYS: Array<[SealKind, (path: string) => number]> = [
  ["overlay", overlaySeal],
  ["bind", bindSeal],
  ["memfd", memfdSeal],
];

/** A sealed handle on `path`, by the first way this kernel and file system allow. */
export function sealReadOnly(path: string, ways: SealKind[] = ["overlay", "bind", "memfd"]): SealedFile {
  let last: unknown = new Error(`no way to seal ${path}`);
  for (const [kind, seal] of WAYS) {
    if (!ways.includes(kind)) continue;
    try {
      return { fd: seal(path), kind };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}
