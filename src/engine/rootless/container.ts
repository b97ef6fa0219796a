// What a rootless `mycr run` does differently from root's (docs/rootless.md): the
// container gets a user namespace of its own, mapped one to one over ours, so that its
// root has no power over this mycr. Where no cgroup is delegated to the user
// (rootless/cgroup.ts decides) limits are refused in one line and the fact is told once
// per boot.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../../runtime/errors";
import type { RootlessIdentity } from "../../runtime/rootless";
import type { Resources, Spec } from "../../spec/types";
import { kernelRelease } from "../../sys";

/** The flag a resources field comes from (engine/resource-flags.ts). */
const FLAG_OF: Record<string, string> = {
  memory: "--memory",
  cpu: "--cpus/--cpu-shares/--cpuset-cpus",
  pids: "--pids-limit",
  blockIO: "--blkio-weight",
};

const NO_CGROUP = "limits need a cgroup, and none is delegated to you (cgroup v2 with a systemd user session); rootless containers here run without";

/** overlayfs may be mounted in a user namespace since Linux 5.11. */
export function overlayInUserNamespace(kernel = kernelRelease()): boolean {
  const [major = 0, minor = 0] = kernel.split(".").map((n) => Number.parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 11);
}

/** Refuses what needs a cgroup or root's powers over the host, before anything exists. */
export function refuseRootless(req: { resources?: Resources; storageSize?: number; oomScoreAdj?: number }): void {
  if (!overlayInUserNamespace()) {
    throw new ContainerError(`rootless containers need Linux 5.11 or later (overlayfs in a user namespace); this kernel is ${kernelRelease()}: run mycr as root here`);
  }
  const limited = Object.entries(req.resources ?? {}).find(([, v]) => v !== undefined && v !== null);
  if (limited) throw new ContainerError(`${FLAG_OF[limited[0]] ?? `linux.resources.${limited[0]}`}: ${NO_CGROUP}`);
  if (req.storageSize !== undefined) throw new ContainerError("--storage-opt size: project quotas need root (rootless containers have no disk limit)");
  if (req.oomScoreAdj !== undefined && req.oomScoreAdj < 0) {
    throw new ContainerError(`--oom-score-adj ${req.oomScoreAdj}: lowering the OOM score needs root; rootless containers may only raise it`);
  }
}

const TTY_GID = 5;

/** The container's own user namespace: ids 0..N-1 of ours, one to one (root is still the user). */
export function addUserNamespace(spec: Spec, identity: RootlessIdentity): void {
  const linux = spec.linux!;
  linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== "user"), { type: "user" }];
  const oneToOne = (ranges: RootlessIdentity["uidRanges"]) => ranges.map((r) => ({ containerID: r.start, hostID: r.start, size: r.count }));
  linux.uidMappings = oneToOne(identity.uidRanges);
  linux.gidMappings = oneToOne(identity.gidRanges);
  // devpts gives new terminals the tty group (5): with a single-id map there is none.
  if (!identity.gidRanges.some((r) => r.start <= TTY_GID && TTY_GID < r.start + r.count)) {
    for (const m of spec.mounts ?? []) if (m.type === "devpts") m.options = (m.options ?? []).filter((o) => o !== `gid=${TTY_GID}`);
  }
  // No device rules: a rootless container's cgroup, if any, cannot hold them (their eBPF
  // program needs the host's CAP_SYS_ADMIN). What the container can reach
  // is what is bound into its /dev, with the host's permissions on each node.
  if (linux.resources) delete linux.resources.devices;
}

/**
 * Tells once per boot that rootless containers run without a cgroup, as podman tells it
 * once: the boot's id is kept in the data root after the first time.
 */
export function noticeNoCgroupOnce(dataRoot: string, onNotice?: (message: string) => void): void {
  const marker = join(dataRoot, "no-cgroup-notice");
  let boot: string;
  try {
    boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    if (existsSync(marker) && readFileSync(marker, "utf8") === boot) return;
    mkdirSync(dataRoot, { recursive: true, mode: 0o711 });
    writeFileSync(marker, boot, { mode: 0o600 });
  } catch {
    // told anyway: better twice than never
  }
  onNotice?.("rootless: no cgroup is delegated to you here, so containers run without one (no --memory, --cpus, --pids-limit; no cgroup stats); told once per boot");
}
