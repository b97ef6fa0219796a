// Resolving container paths against the root filesystem without escaping it.
// A rootfs is untrusted: its symlinks are interpreted as if the rootfs were "/",
// so `/data -> /etc` leads to <rootfs>/etc, never to the host's /etc.
import { fstatSync, lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import {
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE, SysError,
  close, mkdirat, openPath, openat, openat2, readlinkFd,
} from "../../sys";

const MAX_SYMLINKS = 255;

/** Host path for `containerPath` inside `root`, every symlink resolved within root. */
export function resolveInRoot(root: string, containerPath: string): string {
  const resolved: string[] = [];
  let pending = containerPath.split("/");
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // missing: the rest is taken literally and created by the caller
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new Error(`${containerPath}: too many levels of symbolic links in the root filesystem`);
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending = [...target.split("/"), ...pending];
  }
  return join(root, ...resolved);
}

/** What openInRoot creates when the path does not exist yet. */
export type Create = "dir" | "file" | null;

const MAX_LINKS = 40;

function errnoOf(e: unknown): number {
  return e instanceof SysError ? e.errno : 0;
}

/**
 * An O_PATH fd for `containerPath` inside `root`, every symlink resolved as if `root`
 * were "/" (so `/data -> ../../etc` stays inside), creating what is missing. Mounting
 * onto /proc/self/fd/N of this fd hits exactly what was checked: a symlink swapped in
 * afterwards changes nothing. The kernel does the resolving where it has openat2
 * (RESOLVE_IN_ROOT); otherwise, and to create, the same is done here one component at
 * a time, each opened relative to its parent with O_NOFOLLOW.
 */
export function openInRoot(root: string, containerPath: string, create: Create = null): number {
  const rootFd = openPath(root, O_DIRECTORY);
  try {
    if (openat2Works !== false) {
      try {
        const fd = openat2(rootFd, containerPath.replace(/^\/+/, "") || ".", O_PATH | O_CLOEXEC, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
        openat2Works = true;
        return fd;
      } catch (e) {
        const errno = errnoOf(e);
        if (errno === 38 /* ENOSYS */) openat2Works = false;
        else if (errno !== 2 /* ENOENT */ || create === null) throw e;
      }
    }
    return walkInRoot(rootFd, containerPath, create);
  } finally {
    close(rootFd);
  }
}

/** null until tried; false on kernels before 5.6. Exported for the tests of the walk. */
let openat2Works: boolean | null = null;
export function forceWalkForTests(on: boolean): void {
  openat2Works = on ? false : null;
}

/** The userspace equivalent of RESOLVE_IN_ROOT, creating missing components as `create` says. */
export function walkInRoot(rootFd: number, containerPath: string, create: Create): number {
  // stack[i] is an O_PATH fd of the i-th directory on the way; stack[0] is the root.
  const stack: number[] = [openat(rootFd, ".", O_PATH | O_CLOEXEC)];
  let pending = containerPath.split("/");
  let links = 0;
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (stack.length > 1) close(stack.pop()!); // never above the root
        continue;
      }
      const parent = stack[stack.length - 1]!;
      const last = pending.every((p) => p === "" || p === ".");
      let fd: number;
      try {
        fd = openat(parent, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      } catch (e) {
        if (errnoOf(e) !== 2 || create === null) throw e;
        try {
          makeEntry(parent, part, last && create === "file" ? "file" : "dir");
        } catch (e2) {
          // In a user namespace, a directory of an id it does not map is nobody's to write.
          if (errnoOf(e2) !== 13 /* EACCES */) throw e2;
          throw new Error(`mount point ${containerPath}: cannot be made in the root filesystem (EACCES); in a user namespace (rootless) the root must belong to ids it maps: yours or your subordinate ids`);
        }
        fd = openat(parent, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      }
      const st = fstatSync(fd);
      if (st.isSymbolicLink()) {
        const target = readlinkFd(fd);
        close(fd);
        if (++links > MAX_LINKS) throw new SysError("openat", containerPath, 40 /* ELOOP */);
        if (target.startsWith("/")) while (stack.length > 1) close(stack.pop()!);
        pending = [...target.split("/"), ...pending];
        continue;
      }
      if (!last && !st.isDirectory()) {
        close(fd);
        throw new SysError("openat", `${containerPath}: ${part}`, 20 /* ENOTDIR */);
      }
      stack.push(fd);
    }
    return stack.pop()!;
  } finally {
    for (const fd of stack) close(fd);
  }
}

function makeEntry(parent: number, name: string, kind: "dir" | "file"): void {
  try {
    if (kind === "dir") mkdirat(parent, name, 0o755);
    else close(openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644));
  } catch (e) {
    if (errnoOf(e) !== 17 /* EEXIST: made meanwhile, or a symlink; the caller looks again */) throw e;
  }
}
