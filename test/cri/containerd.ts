// A containerd of the test's own for its CRI: its own root, state, socket and CNI config
// under one directory, containerd's runc shim (io.containerd.runc.v2) with mycr as its
// runc binary, and a pod network of bridge + host-local that clashes with nothing of
// mycr's (10.89.0.0/16) or podman's (10.88.0.0/16).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { PAUSE_IMAGE } from "./images";

export const CNI_BIN_DIRS = ["/usr/lib/cni", "/opt/cni/bin"];
export const POD_BRIDGE = "mycrcri0";
export const POD_SUBNET = "10.213.77.0/24";

export interface CriDaemonOptions {
  dir: string;
  mycr: string;
  /** containerd's `SystemdCgroup = true`: the shim passes --systemd-cgroup, cgroups are scopes. */
  systemdCgroup: boolean;
  /** Where containerd and the CNI plugins are looked for (PATH). */
  path?: string;
}

/**
 * Whether this process may lower OOM scores (CAP_SYS_RESOURCE, bit 24 of CapEff). Where it
 * may not (this development machine), containerd must not ask for the sandbox's -998:
 * `restrict_oom_score_adj` keeps the scores at or above containerd's own, as on rootless hosts.
 */
function canLowerOomScore(): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
  return (BigInt(`0x${eff}`) & (1n << 24n)) !== 0n;
}

export interface CriDaemon {
  socket: string;
  /** The runtime root the shim gives mycr (--root): mycr's state of the pod's containers. */
  runtimeRoot: string;
  netnsDir: string;
  ipamDir: string;
  log: string;
  stop(): Promise<void>;
}

const cniBinDir = () => CNI_BIN_DIRS.find((d) => Bun.file(join(d, "bridge")).size > 0) ?? CNI_BIN_DIRS[0]!;

function config(o: CriDaemonOptions, d: { socket: string; runtimeRoot: string; cniConf: string }): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  const runtime = `${cri}.containerd.runtimes.mycr`;
  return `version = 2
root = ${JSON.stringify(join(o.dir, "root"))}
state = ${JSON.stringify(join(o.dir, "state"))}
[grpc]
  address = ${JSON.stringify(d.socket)}
[${cri}]
  sandbox_image = ${JSON.stringify(PAUSE_IMAGE)}
  # the pods' network namespaces under the test's state, not /var/run/netns
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = ${!canLowerOomScore()}
  [${cri}.cni]
    bin_dir = ${JSON.stringify(cniBinDir())}
    conf_dir = ${JSON.stringify(d.cniConf)}
  [${cri}.containerd]
    default_runtime_name = "mycr"
  [${runtime}]
    runtime_type = "io.containerd.runc.v2"
    # passed on into the containers' config.json, as the kubelet's users set them
    container_annotations = ["org.systemd.property.*"]
  [${runtime}.options]
    BinaryName = ${JSON.stringify(o.mycr)}
    Root = ${JSON.stringify(d.runtimeRoot)}
    SystemdCgroup = ${o.systemdCgroup}
`;
}

function cniConfig(ipamDir: string): string {
  return JSON.stringify({
    cniVersion: "1.0.0",
    name: "mycr-cri-test",
    plugins: [
      {
        type: "bridge",
        bridge: POD_BRIDGE,
        isGateway: true,
        ipMasq: false,
        ipam: { type: "host-local", ranges: [[{ subnet: POD_SUBNET }]], dataDir: ipamDir },
      },
    ],
  });
}

/** Starts containerd with its CRI plugin; resolves once the socket answers. */
export async function startCriDaemon(o: CriDaemonOptions): Promise<CriDaemon> {
  const socket = join(o.dir, "containerd.sock");
  const runtimeRoot = join(o.dir, "runtime");
  const cniConf = join(o.dir, "cni");
  const ipamDir = join(o.dir, "ipam");
  const log = join(o.dir, "containerd.log");
  mkdirSync(cniConf, { recursive: true });
  writeFileSync(join(cniConf, "10-mycr-cri-test.conflist"), cniConfig(ipamDir));
  writeFileSync(join(o.dir, "config.toml"), config(o, { socket, runtimeRoot, cniConf }));
  const env = { ...process.env, PATH: o.path ?? process.env.PATH };
  const daemon: Subprocess = Bun.spawn(["containerd", "--config", join(o.dir, "config.toml")], { stdout: "ignore", stderr: Bun.file(log), env });
  const answers = () => Bun.spawnSync(["ctr", "-a", socket, "version"], { env }).exitCode === 0;
  for (let i = 0; i < 300 && !answers(); i++) {
    if (daemon.exitCode !== null) throw new Error(`containerd exited (${daemon.exitCode}): ${readFileSync(log, "utf8").trim().split("\n").slice(-3).join(" | ")}`);
    await Bun.sleep(100);
  }
  if (!answers()) {
    daemon.kill("SIGKILL");
    throw new Error(`containerd did not answer on ${socket} within 30 s`);
  }
  return {
    socket,
    runtimeRoot,
    netnsDir: join(o.dir, "state", "io.containerd.grpc.v1.cri", "netns"),
    ipamDir,
    log,
    async stop() {
      daemon.kill("SIGTERM");
      const timer = setTimeout(() => daemon.kill("SIGKILL"), 10_000);
      await daemon.exited;
      clearTimeout(timer);
    },
  };
}
