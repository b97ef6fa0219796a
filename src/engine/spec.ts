// `mycr run` flags -> an OCI runtime-spec config. The runtime only ever sees a spec.
import { defaultSpec } from "../spec/defaults";
import type { Mount, Resources, Spec } from "../spec/types";
import type { SecuritySettings } from "./security-flags";

export interface ContainerSettings {
  id: string;
  args: string[];
  /** Host path of the prepared root filesystem (the overlay's merged dir). */
  rootfs: string;
  /** Mounted over the root before anything else (the overlay). */
  rootMount: Mount;
  hostname?: string;
  /** Host paths that must not be visible inside (used when the host's root is the lower layer). */
  hidePaths: string[];
  resources?: Resources;
  oomScoreAdj?: number;
  security: SecuritySettings;
}

/** Where the spec's security fields come from: see security-flags.ts for the choices. */
function applySecurity(spec: Spec, sec: SecuritySettings): void {
  const proc = spec.process!;
  const linux = spec.linux!;
  proc.capabilities = sec.capabilities;
  proc.noNewPrivileges = sec.noNewPrivileges;
  if (sec.seccomp) linux.seccomp = sec.seccomp;
  linux.maskedPaths!.push(...sec.maskedPaths);
  linux.readonlyPaths = [...sec.readonlyPaths];
  if (sec.devices.length > 0) linux.devices = sec.devices;
  if (sec.deviceRules) linux.resources = { ...linux.resources, devices: sec.deviceRules };
  if (sec.sysctl) linux.sysctl = sec.sysctl;
  if (sec.privileged) {
    // docker: a privileged container's /sys and cgroup file systems are writable
    for (const m of spec.mounts!) {
      if (m.destination === "/sys" || m.destination === "/sys/fs/cgroup") m.options = (m.options ?? []).filter((o) => o !== "ro");
    }
  }
}

export function buildSpec(s: ContainerSettings): Spec {
  const spec = defaultSpec(s.args, s.rootfs);
  spec.hostname = s.hostname ?? s.id.slice(0, 12);
  spec.process!.env!.push(`HOSTNAME=${spec.hostname}`);
  spec.mounts!.unshift(s.rootMount);
  spec.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] });
  spec.linux!.maskedPaths = [...s.hidePaths];
  if (s.resources) spec.linux!.resources = s.resources;
  if (s.oomScoreAdj !== undefined) spec.process!.oomScoreAdj = s.oomScoreAdj;
  applySecurity(spec, s.security);
  return spec;
}
