// The new mount API (fsopen, fsconfig, fsmount, move_mount): each option is its own call,
// so no option string has to fit mount(2)'s one page. overlayfs takes its lower layers
// one at a time through "lowerdir+" (Linux 6.8), which lifts the limit on image layers.
import { ptr } from "bun:ffi";
import { SYS } from "./arch";
import { check, cstr, syscall } from "./libc";
import { close } from "./fd";
import { O_DIRECTORY, openPath } from "./openat";
import { O_CLOEXEC } from "./constants";

const FSOPEN_CLOEXEC = 1;
const FSMOUNT_CLOEXEC = 1;
const FSCONFIG = { SET_FLAG: 0, SET_STRING: 1, CMD_CREATE: 6 } as const;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

/** Mount attributes for fsmount (linux/mount.h), the new API's names for MS_RDONLY and friends. */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, NOATIME: 0x10, NODIRATIME: 0x80, IDMAP: 0x100000 } as const;

export type FsParam = { key: string; value?: string };

/**
 * Creates a filesystem of `type` from `params` (a key with a value is a string, without
 * one a flag; keys may repeat, as "lowerdir+") as a detached mount: an fd, attached nowhere.
 */
export function detachedMount(type: string, params: FsParam[], attrs: number): number {
  // Every C string is held in a variable until its call returns, so no buffer is collected under it.
  const name = cstr(type);
  const fs = check(syscall(SYS.fsopen, ptr(name), FSOPEN_CLOEXEC, 0, 0, 0), "fsopen", type);
  try {
    for (const p of params) {
      const key = cstr(p.key);
      if (p.value === undefined) {
        check(syscall(SYS.fsconfig, fs, FSCONFIG.SET_FLAG, ptr(key), 0, 0), "fsconfig", `${type}, ${p.key}`);
      } else {
        const value = cstr(p.value);
        check(syscall(SYS.fsconfig, fs, FSCONFIG.SET_STRING, ptr(key), ptr(value), 0), "fsconfig", `${type}, ${p.key}=${p.value}`);
      }
    }
    check(syscall(SYS.fsconfig, fs, FSCONFIG.CMD_CREATE, 0, 0, 0), "fsconfig", `${type}, create`);
    return check(syscall(SYS.fsmount, fs, FSMOUNT_CLOEXEC, attrs, 0, 0), "fsmount", type);
  } finally {
    close(fs);
  }
}

/** detachedMount, then attached at `target`. */
export function mountWithParams(type: string, params: FsParam[], attrs: number, target: string): void {
  const mnt = detachedMount(type, params, attrs);
  try {
    // Onto an fd of the target: move_mount refuses a /proc/self/fd path (EINVAL), which is how callers name mount points.
    const to = openPath(target, O_DIRECTORY);
    try {
      const empty = cstr("");
      check(syscall(SYS.move_mount, mnt, ptr(empty), to, ptr(empty), MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), "move_mount", target);
    } finally {
      close(to);
    }
  } finally {
    close(mnt);
  }
}

const OPEN_TREE_CLONE = 1;
const AT_RECURSIVE = 0x8000;
const AT_EMPTY_PATH = 0x1000;
const AT_FDCWD = -100;

/**
 * A detached copy of the tree at `source` (a bind mount not attached yet) whose owners
 * are seen through the user namespace `usernsFd` (an idmapped mount, Linux 5.12).
 */
export function idmappedTree(source: string, recursive: boolean, usernsFd: number): number {
  const path = cstr(source);
  const flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  const tree = check(syscall(SYS.open_tree, AT_FDCWD, ptr(path), flags, 0, 0), "open_tree", source);
  try {
    const attr = new BigUint64Array([BigInt(MOUNT_ATTR.IDMAP), 0n, 0n, BigInt(usernsFd)]); // struct mount_attr { set, clr, propagation, userns_fd }
    const empty = cstr("");
    const at = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    check(syscall(SYS.mount_setattr, tree, ptr(empty), at, ptr(attr), attr.byteLength), "mount_setattr", `${source}, MOUNT_ATTR_IDMAP`);
    return tree;
  } catch (e) {
    close(tree);
    throw e;
  }
}

/** Attaches a detached mount onto the mount point `targetFd` (an O_PATH fd: file or directory). */
export function attachMount(mnt: number, targetFd: number, what: string): void {
  const empty = cstr("");
  check(syscall(SYS.move_mount, mnt, ptr(empty), targetFd, ptr(empty), MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), "move_mount", what);
}
