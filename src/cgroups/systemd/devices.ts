// linux.resources.devices as systemd's DevicePolicy and DeviceAllow, so that systemd's
// view of the scope (systemctl show, its own eBPF program) matches the container's, as
// runc gives them. mycr's own eBPF program (written with the files, as on plain v2)
// enforces the rules either way; systemd can only list what is allowed, so rule lists it
// cannot express (denies without a deny-all before them) are left to that program alone.
import { readFileSync } from "node:fs";
import type { DeviceCgroupRule } from "../../spec/types";
import { Variant } from "./dbus-marshal";
import type { Property } from "./properties";

const isAll = (r: DeviceCgroupRule) => (r.type ?? "a") === "a";

/** The name /proc/devices gives a major number of a type ("pts" for c 136), or null. */
export function majorName(type: "c" | "b", major: number, procDevices = readFileSync("/proc/devices", "utf8")): string | null {
  let section = "";
  for (const line of procDevices.split("\n")) {
    if (line.startsWith("Character devices:")) section = "c";
    else if (line.startsWith("Block devices:")) section = "b";
    else if (section === type) {
      const m = /^\s*(\d+)\s+(\S+)$/.exec(line);
      if (m && Number(m[1]) === major) return m[2]!;
    }
  }
  return null;
}

/** One allow rule as a DeviceAllow entry: "/dev/char/1:3", "char-pts", "char-*". */
function allowEntry(r: DeviceCgroupRule): [string, string] | null {
  const type = r.type as "c" | "b";
  const kind = type === "c" ? "char" : "block";
  const access = r.access || "rwm";
  const wild = (n: number | null | undefined) => n === undefined || n === null || n < 0;
  if (wild(r.major)) return [`${kind}-*`, access];
  if (wild(r.minor)) {
    const name = majorName(type, r.major!);
    if (!name) return null; // systemd names majors by their /proc/devices group only
    return [`${kind}-${name}`, access];
  }
  return [`/dev/${kind}/${r.major}:${r.minor}`, access];
}

/**
 * The properties for a device rule list, or null when there is none or systemd cannot
 * express it. The rules are read in order: the last "deny all" starts an allow list.
 */
export function deviceProperties(rules: DeviceCgroupRule[] | undefined): Property[] | null {
  if (!rules?.length) return null;
  let start = -1;
  rules.forEach((r, i) => {
    if (isAll(r) && !r.allow) start = i;
  });
  const after = rules.slice(start + 1);
  const allowAll = (list: DeviceCgroupRule[]) => list.some((r) => isAll(r) && r.allow);
  if (start < 0 || allowAll(after)) {
    // No deny-all: allowed by default, which is right only if nothing is denied after.
    const lastAll = rules.map((r) => isAll(r) && r.allow).lastIndexOf(true);
    if (rules.slice(Math.max(lastAll, 0)).some((r) => !r.allow)) return null;
    return [["DevicePolicy", new Variant("s", "auto")], ["DeviceAllow", new Variant("a(ss)", [])]];
  }
  if (after.some((r) => !r.allow)) return null; // a deny taking back an allow: not a list
  const entries = after.map(allowEntry);
  if (entries.some((e) => e === null)) return null;
  return [
    ["DevicePolicy", new Variant("s", "strict")],
    ["DeviceAllow", new Variant("a(ss)", entries as Array<[string, string]>)],
  ];
}
