// Parts of a valid config.json mycr cannot honour on this host: refused before
// anything is created, with one line naming the field, never silently ignored
// (docs/oci.md lists every field). Limits the cgroup files decide (blkio weights,
// real-time budgets...) are refused by the cgroup driver as it writes them.
import type { CgroupManager } from "../cgroups";
import { SYSTEMD_PROPERTY_PREFIX, annotationProperties } from "../cgroups/systemd/annotations";
import type { Spec } from "../spec/types";
import { NEWER_FIELDS } from "../spec/fields";
import { isBindMount, unknownBindOptions } from "./rootfs/mount-options";
import { apparmorEnabled, selinuxEnabled } from "./lsm";
import { idmappedMountRefusal } from "./idmapped-mounts";
import { namespaceRefusal } from "./namespaces";

/** Annotations that ask a runtime for something mycr does not do (none today). */
export const REFUSED_ANNOTATION_PREFIXES: Array<[string, string]> = [];

/** org.systemd.property.*: read by the systemd manager (refused here if unreadable); the cgroupfs manager has no unit to give them to. */
function systemdPropertyRefusal(annotations: Record<string, string> | undefined, manager: CgroupManager): string | null {
  const key = Object.keys(annotations ?? {}).find((k) => k.startsWith(SYSTEMD_PROPERTY_PREFIX));
  if (key === undefined) return null;
  if (manager !== "systemd" && manager !== "systemd-user") return `annotations.${key}: systemd unit properties need the systemd cgroup manager (--systemd-cgroup); the cgroupfs manager makes no unit`;
  try {
    annotationProperties(annotations);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function has(o: object | undefined, key: string): boolean {
  return o !== undefined && o !== null && (o as Record<string, unknown>)[key] !== undefined;
}

function newerField(spec: Spec): string | null {
  for (const path of NEWER_FIELDS) {
    const [section, key] = path.split(".") as [string, string];
    if (has((spec as unknown as Record<string, object | undefined>)[section], key)) return path;
  }
  return null;
}

/** Process fields (also those of `exec --process`) the host cannot give. */
export function processRefusal(proc: Spec["process"]): string | null {
  if (!proc) return null;
  if (proc.commandLine !== undefined) return "process.commandLine: is for Windows; use process.args";
  if (proc.execCPUAffinity?.initial !== undefined) {
    return "process.execCPUAffinity.initial: not supported by mycr (it sets mycr's own affinity before the cgroup is joined); use final";
  }
  const flags = (proc.scheduler?.flags as string[] | undefined) ?? [];
  const clamp = flags.find((f) => f.startsWith("SCHED_FLAG_UTIL_CLAMP"));
  if (clamp) return `process.scheduler.flags: ${clamp} needs clamp values the runtime-spec does not have; remove it`;
  if (proc.scheduler?.policy === "SCHED_ISO") return "process.scheduler.policy: SCHED_ISO is not implemented by Linux";
  if (proc.apparmorProfile && !apparmorEnabled()) {
    return "process.apparmorProfile: AppArmor is not enabled on this host's kernel; remove the field to run without a profile";
  }
  if (proc.selinuxLabel && !selinuxEnabled()) {
    return "process.selinuxLabel: SELinux is not enabled on this host's kernel; remove the field to run without a label";
  }
  return null;
}

/** The first part of `spec` mycr would have to ignore, as a one-line error, or null. */
export function configRefusal(spec: Spec, manager: CgroupManager = "cgroupfs"): string | null {
  const newer = newerField(spec);
  if (newer) return `${newer}: not supported by mycr (a runtime-spec field newer than ${spec.ociVersion ?? "1.2"})`;
  const proc = processRefusal(spec.process);
  if (proc) return proc;
  const namespaces = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  for (const field of ["hostname", "domainname"] as const) {
    if (spec[field] && !namespaces.has("uts")) return `${field}: needs a UTS namespace of the container's own; add {"type": "uts"} to linux.namespaces`;
  }
  const linux = spec.linux;
  if (linux?.intelRdt !== undefined) return "linux.intelRdt: Intel RDT (resctrl) is not supported by mycr; remove the field";
  if (linux?.personality?.flags?.length) return "linux.personality.flags: the runtime-spec defines no personality flags; remove them";
  if (linux?.seccomp?.listenerMetadata) return "linux.seccomp.listenerMetadata: seccomp agents are not supported by mycr";
  if (linux?.mountLabel && !selinuxEnabled()) return "linux.mountLabel: SELinux is not enabled on this host's kernel; remove the field";
  const systemd = systemdPropertyRefusal(spec.annotations, manager);
  if (systemd) return systemd;
  for (const key of Object.keys(spec.annotations ?? {})) {
    const refused = REFUSED_ANNOTATION_PREFIXES.find(([prefix]) => key.startsWith(prefix));
    if (refused) return `annotations.${key}: ${refused[1]}`;
  }
  const namespaceProblem = namespaceRefusal(spec);
  if (namespaceProblem) return namespaceProblem;
  const idmapped = idmappedMountRefusal(spec.mounts);
  if (idmapped) return idmapped;
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    if (!isBindMount(m)) continue;
    const unknown = unknownBindOptions(m.options);
    if (unknown) return `mounts[${i}].options[${unknown.index}]: "${unknown.option}" is not an option of a bind mount (see mycr features' mountOptions)`;
  }
  return null;
}
