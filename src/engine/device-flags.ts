// --device HOST[:CONTAINER][:PERMISSIONS] (docker's syntax) -> a device node in the
// container's /dev and a device cgroup rule that lets the container use it.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import type { Device, DeviceCgroupRule } from "../spec/types";

export interface DeviceGrant {
  device: Device;
  rule: DeviceCgroupRule;
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function isPermissions(text: string): boolean {
  return text.length > 0 && text.length <= 3 && [...text].every((c) => "rwm".includes(c)) && new Set(text).size === text.length;
}

/** The device at `hostPath` as `containerPath`, or null when it is not a device node. */
function deviceAt(hostPath: string, containerPath: string, access: string): DeviceGrant | null {
  const st = statSync(hostPath, { bigint: true });
  const fmt = Number(st.mode) & S_IFMT;
  if (fmt !== S_IFCHR && fmt !== S_IFBLK) return null;
  const rdev = st.rdev;
  // glibc's major()/minor()
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  const type = fmt === S_IFCHR ? "c" : "b";
  return {
    device: { type, path: containerPath, major, minor, fileMode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) },
    rule: { allow: true, type, major, minor, access },
  };
}

export function parseDeviceFlag(text: string): DeviceGrant {
  const parts = text.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) {
    throw new ContainerError(`--device ${text}: expected HOST[:CONTAINER][:PERMISSIONS], such as /dev/sdb:/dev/xvdb:rw`);
  }
  const host = parts[0]!;
  let container = host;
  let access = "rwm";
  if (parts.length === 3) {
    container = parts[1]!;
    access = parts[2]!;
  } else if (parts.length === 2) {
    if (isPermissions(parts[1]!)) access = parts[1]!;
    else container = parts[1]!;
  }
  if (!isPermissions(access)) throw new ContainerError(`--device ${text}: permissions must be a combination of r, w and m, not "${access}"`);
  if (!host.startsWith("/") || !container.startsWith("/")) throw new ContainerError(`--device ${text}: paths must be absolute`);
  let grant: DeviceGrant | null;
  try {
    grant = deviceAt(host, container, access);
  } catch {
    throw new ContainerError(`--device ${text}: ${host} does not exist`);
  }
  if (!grant) throw new ContainerError(`--device ${text}: ${host} is not a character or block device`);
  return grant;
}

/** Every device node of the host's /dev (docker gives them all to --privileged containers). */
export function hostDevices(): Device[] {
  const out: Device[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      // pts, shm and mqueue are the container's own; fd/stdin/... are links
      if (e.isDirectory() && !["/dev/pts", "/dev/shm", "/dev/mqueue"].includes(path)) walk(path);
      else if (e.isCharacterDevice() || e.isBlockDevice()) {
        if (path === "/dev/ptmx" || path === "/dev/console") continue;
        try {
          const grant = deviceAt(path, path, "rwm");
          if (grant) out.push(grant.device);
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  walk("/dev");
  return out;
}
