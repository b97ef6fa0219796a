// `mycr run` flags -> an OCI runtime-spec config. The runtime only ever sees a spec.
import { defaultSpec } from "../spec/defaults";
import type { Mount, Resources, Spec } from "../spec/types";

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
  return spec;
}
