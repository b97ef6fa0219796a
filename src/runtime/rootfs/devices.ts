// Device nodes and the links every Linux program expects under /dev.
import { chownSync, closeSync, lstatSync, openSync, symlinkSync } from "node:fs";
import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import { S_IFBLK, S_IFCHR, S_IFIFO, SysError, bind, mknod, umask } from "../../sys";
import type { Device } from "../../spec/types";
import { resolveInRoot } from "./paths";

/** The devices the runtime-spec says every container has. */
export const DEFAULT_DEVICES: Device[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

export const DEV_LINKS: Array<[string, string]> = [
  ["/proc/self/fd", "/dev/fd"],
  ["/proc/self/fd/0", "/dev/stdin"],
  ["/proc/self/fd/1", "/dev/stdout"],
  ["/proc/self/fd/2", "/dev/stderr"],
  ["pts/ptmx", "/dev/ptmx"],
];

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function typeBits(type: Device["type"]): number {
  switch (type) {
    case "b":
      return S_IFBLK;
    case "p":
      return S_IFIFO;
    default:
      return S_IFCHR;
  }
}

export function createDevice(rootfs: string, device: Device): void {
  const target = resolveInRoot(rootfs, device.path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const mode = (device.fileMode ?? 0o666) & 0o7777;
  const old = umask(0);
  try {
    mknod(target, typeBits(device.type) | mode, device.major ?? 0, device.minor ?? 0);
  } catch (e) {
    // Where mknod is not allowed, bind the host's node instead (as runc does).
    if (!(e instanceof SysError) || e.errno !== 1 || !exists(device.path)) throw e;
    if (!exists(target)) closeSync(openSync(target, "a", 0o600));
    bind(device.path, target, false);
    return;
  } finally {
    umask(old);
  }
  chownSync(target, device.uid ?? 0, device.gid ?? 0);
}

/** Populates a fresh /dev: default devices, the spec's devices, and the standard links. */
export function populateDev(rootfs: string, devices: Device[]): void {
  const seen = new Set<string>();
  for (const d of [...devices, ...DEFAULT_DEVICES]) {
    if (seen.has(d.path)) continue;
    seen.add(d.path);
    const target = resolveInRoot(rootfs, d.path);
    if (exists(target) && DEFAULT_DEVICES.includes(d)) continue;
    createDevice(rootfs, d);
  }
  for (const [linkTarget, path] of DEV_LINKS) {
    const at = resolveInRoot(rootfs, path);
    if (!exists(at)) symlinkSync(linkTarget, at);
  }
  if (exists("/proc/kcore")) {
    const core = resolveInRoot(rootfs, "/dev/core");
    if (!exists(core)) symlinkSync("/proc/kcore", core);
  }
}
