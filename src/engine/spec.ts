// `mycr run` flags -> an OCI runtime-spec config. The runtime only ever sees a spec.
import { DEFAULT_PATH, defaultSpec } from "../spec/defaults";
import type { Mount, Resources, Rlimit, Spec } from "../spec/types";
import { INIT_ANNOTATION, USER_ANNOTATION } from "../runtime/annotations";
import type { SecuritySettings } from "./security-flags";
import { buildEnv } from "./env";
import { mergeMounts } from "./mounts";
import { boundTmpfs, sizeShm } from "./tmpfs-sizes";

export interface ContainerSettings {
  id: string;
  args: string[];
  /** Host path of the prepared root filesystem (the overlay's merged dir). */
  rootfs: string;
  /** Mounted over the root before anything else (the overlay). */
  /** The overlay init mounts on the root; none: the root dir is ready as it is (fuse-overlayfs mounted it). */
  rootMount?: Mount;
  hostname?: string;
  /** Host paths that must not be visible inside (used when the host's root is the lower layer). */
  hidePaths: string[];
  resources?: Resources;
  oomScoreAdj?: number;
  security: SecuritySettings;
  env?: string[];
  envFiles?: string[];
  cwd?: string;
  /** -u as given (USER[:GROUP], names or numbers); resolved by init inside the root. */
  user?: string;
  /** -v and --tmpfs. */
  mounts?: Mount[];
  readonlyRoot?: boolean;
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  rlimits?: Rlimit[];
  /** --init: PID 1 is mycr's reaper. */
  init?: boolean;
  /** The image config's Env: over mycr's defaults, under --env-file and -e. */
  imageEnv?: string[];
  /** The image config's StopSignal, recorded as the image-spec annotation. */
  stopSignal?: string;
  /** Bytes of /tmp and of every --tmpfs that names no size (see tmpfs-sizes.ts). */
  tmpfsSize: number;
  /** /tmp is the image's own directory, not a tmpfs: what a build's RUN writes there stays in the layer, as with docker. */
  tmpInImage?: boolean;
  /** --shm-size in bytes; the default spec's /dev/shm is 64 MiB. */
  shmSize?: number;
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
  linux.resources = { ...linux.resources, devices: sec.deviceRules };
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
  const proc = spec.process!;
  spec.hostname = s.hostname ?? s.id.slice(0, 12);
  // HOME comes from the container's /etc/passwd when a user is named (init fills it in).
  // -t: TERM=xterm as docker, podman and ctr set it (an image's or -e's TERM wins).
  const defaults = [`PATH=${DEFAULT_PATH}`, ...(s.user === undefined ? ["HOME=/root"] : []), `HOSTNAME=${spec.hostname}`, ...(s.terminal ? ["TERM=xterm"] : [])];
  proc.env = buildEnv([...defaults, ...(s.imageEnv ?? [])], s.envFiles ?? [], s.env ?? []);
  if (s.cwd !== undefined) proc.cwd = s.cwd;
  if (s.terminal) {
    proc.terminal = true;
    if (s.consoleSize) proc.consoleSize = s.consoleSize;
  }
  if (s.rlimits && s.rlimits.length > 0) proc.rlimits = s.rlimits;
  const annotations: Record<string, string> = {};
  if (s.user !== undefined) annotations[USER_ANNOTATION] = s.user;
  if (s.init) annotations[INIT_ANNOTATION] = "true";
  if (s.stopSignal) annotations["org.opencontainers.image.stopSignal"] = s.stopSignal;
  if (Object.keys(annotations).length > 0) spec.annotations = annotations;
  spec.root!.readonly = s.readonlyRoot === true;

  const tmp: Mount[] = s.tmpInImage ? [] : [{ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] }];
  const defaultMounts = s.shmSize !== undefined ? sizeShm([...spec.mounts!, ...tmp], s.shmSize) : [...spec.mounts!, ...tmp];
  spec.mounts = [...(s.rootMount ? [s.rootMount] : []), ...boundTmpfs(mergeMounts(defaultMounts, s.mounts ?? []), s.tmpfsSize)];
  spec.linux!.maskedPaths = [...s.hidePaths];
  if (s.resources) spec.linux!.resources = s.resources;
  if (s.oomScoreAdj !== undefined) spec.process!.oomScoreAdj = s.oomScoreAdj;
  applySecurity(spec, s.security);
  return spec;
}
