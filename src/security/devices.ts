// The device cgroup allowlist of a `mycr run` container (docker's): creating device
// nodes of any type is allowed, but only these may be read or written.
import type { DeviceCgroupRule, Resources } from "../spec/types";

const rule = (type: "c" | "b", major: number | null, minor: number | null, access: string): DeviceCgroupRule => ({
  allow: true,
  type,
  major,
  minor,
  access,
});

export const DEFAULT_DEVICE_RULES: DeviceCgroupRule[] = [
  { allow: false, access: "rwm" }, // everything else
  rule("c", null, null, "m"), // mknod of any character device ...
  rule("b", null, null, "m"), // ... or block device; opening it is still denied
  rule("c", 1, 3, "rwm"), // null
  rule("c", 1, 5, "rwm"), // zero
  rule("c", 1, 7, "rwm"), // full
  rule("c", 1, 8, "rwm"), // random
  rule("c", 1, 9, "rwm"), // urandom
  rule("c", 5, 0, "rwm"), // tty
  rule("c", 5, 1, "rwm"), // console
  rule("c", 5, 2, "rwm"), // ptmx
  rule("c", 136, null, "rwm"), // pts/*
];

/** --privileged: every device. */
export const ALLOW_ALL_DEVICES: DeviceCgroupRule[] = [{ allow: true, access: "rwm" }];

/**
 * The runtime-spec's default devices (/dev/null, /dev/tty, the pts, ...) are the
 * runtime's to provide, so a device list that denies everything (podman sends just
 * that) still lets the container use them, as runc allows them too. Appended last:
 * on create and on update alike, later rules win.
 */
export function withDefaultDevices(resources: Resources | undefined): Resources | undefined {
  if (!resources?.devices?.length) return resources;
  return { ...resources, devices: [...resources.devices, ...DEFAULT_DEVICE_RULES.filter((r) => r.allow)] };
}
