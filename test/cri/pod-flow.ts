// A pod run as the kubelet runs one through the CRI: the sandbox, two containers in it
// (a server and a client that reaches it on localhost: one network and IPC namespace for
// the pod, a PID namespace each), ExecSync, ContainerStatus, ContainerStats, then
// StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox. Returns what it saw
// as named checks, so that the host's test (test/cri.test.ts) and the VM's script
// (test/vm/systemd.sh through cri/vm-main.ts) judge the same things. Runs as root on the
// host of the containerd it talks to: it also reads the containers' cgroups and what the
// pod left behind.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { CriClient } from "./client";
import { POD_BRIDGE, POD_SUBNET, type CriDaemon } from "./containerd";
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from "./images";

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface PodFlowOptions {
  cri: CriClient;
  daemon: CriDaemon;
  /** containerd runs with SystemdCgroup = true: cgroups are scopes in `cgroupParent` (a slice). */
  systemd: boolean;
  /** The pod's cgroup parent, as the kubelet gives it: "/a/b" (cgroupfs) or "x.slice" (systemd). */
  cgroupParent: string;
  logDir: string;
  /** org.systemd.property.* annotations of the server container and what `systemctl show` must then say of its scope. */
  scopeProperties?: ScopeProperty[];
  /** Told each step as it starts and each check as it is made (the VM prints them: a hang shows where it is). */
  progress?: (step: string) => void;
  onCheck?: (check: Check) => void;
}

export interface ScopeProperty {
  annotation: string;
  value: string;
  /** the property systemctl shows, and its value there */
  property: string;
  shown: string;
}

export const SERVER_MEMORY = 64 * 1024 * 1024;
const BODY = "hello-from-server";
const SERVER = `trap 'exit 0' TERM; mkdir -p /www; echo ${BODY} >/www/index.html; httpd -f -p 127.0.0.1:8080 -h /www & wait`;
// Waits for the server, prints its page (into the CRI log), then sleeps as PID 1, which
// ignores SIGTERM: StopContainer has to kill it when the grace period is over.
const CLIENT = "until wget -q -O - http://127.0.0.1:8080/; do sleep 0.2; done; exec sleep 100000";

const ours = (path: string): string => {
  try {
    return readlinkSync(path);
  } catch (e) {
    return String(e);
  }
};

/** The container's cgroup as the host sees it, from its init's /proc/PID/cgroup: [dir, memory limit file]. */
function cgroupOf(pid: number): { dir: string; limit: string } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
  const v1 = lines.find((l) => l.split(":")[1]?.split(",").includes("memory"));
  if (v1) {
    const dir = join("/sys/fs/cgroup/memory", v1.split(":")[2]!);
    return { dir, limit: join(dir, "memory.limit_in_bytes") };
  }
  const dir = join("/sys/fs/cgroup", lines.find((l) => l.startsWith("0::"))!.slice(3));
  return { dir, limit: join(dir, "memory.max") };
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The check a step that threw is reported under, with the step and the error. */
export const STEPS_RAN = "the pod's steps ran to the end";

/** The names of the checks podFlow reports when all goes well, for the tests to list. */
export function podFlowCheckNames(systemd: boolean, scopeProperties: ScopeProperty[] = []): string[] {
  return [
    "Version: the runtime speaks CRI v1",
    "ImageStatus: the locally built sandbox image is known",
    "RunPodSandbox: the sandbox is ready",
    "the pod has an address on the test network",
    "CreateContainer: the server is created",
    "the client reached the server on localhost (its CRI log)",
    "ExecSync: the client fetches the server's page over localhost",
    "the containers share the pod's network namespace, not the host's",
    "the containers share the pod's IPC namespace, not the host's",
    "each container has a PID namespace of its own",
    "the containers have the pod's hostname",
    "ExecSync: stdout, stderr and the exit code of a failing command",
    "ContainerStatus: the server is running",
    "ContainerStatus: started_at is set",
    "the server's memory limit is its cgroup's",
    ...(systemd
      ? ["the server's cgroup is a systemd scope in the pod's slice", ...scopeProperties.map(propertyCheck)]
      : ["the server's cgroup is under the pod's cgroup parent"]),
    "ContainerStats: the stats are the server's",
    "ContainerStats: memory working set > 0",
    "ContainerStats: CPU time > 0",
    "StopContainer: the server left on SIGTERM with status 0",
    "StopContainer: the client, deaf to SIGTERM, is killed after the grace period (137)",
    "StopContainer waited the grace period out",
    "RemoveContainer: the server is gone",
    "StopPodSandbox: the sandbox is not ready",
    "RemovePodSandbox: the sandbox is gone",
    "nothing left: network namespaces",
    "nothing left: veths on the pod bridge",
    "nothing left: IPAM reservations",
    "nothing left: CNI's cached results",
    "nothing left: mycr's state of the pod's containers",
    "nothing left: the containers' cgroups",
  ];
}

const propertyCheck = (p: ScopeProperty) => `the annotation ${p.annotation}=${p.value} reaches the scope (${p.property})`;

/** Runs the pod; never throws: a step that fails is a failed check, and the pod is removed whatever happened. */
export async function podFlow(o: PodFlowOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const eq = (name: string, expected: unknown, actual: unknown) => {
    const [e, a] = [JSON.stringify(expected), JSON.stringify(actual)];
    ok(name, e === a, e === a ? a : `expected ${e}, got ${a}`);
  };
  const ok = (name: string, pass: boolean, detail: string) => {
    checks.push({ name, pass, detail });
    o.onCheck?.({ name, pass, detail });
  };
  const rt = o.cri.runtime;
  const uid = `mycr-cri-${process.pid}`;
  const sandboxConfig = {
    metadata: { name: "cripod", uid, namespace: "mycr-test", attempt: 0 },
    hostname: "cripod",
    logDirectory: o.logDir,
    labels: { test: "mycr-cri" },
    linux: {
      cgroupParent: o.cgroupParent,
      securityContext: { namespaceOptions: { network: "POD", pid: "CONTAINER", ipc: "POD" } },
    },
  };
  const containerConfig = (name: string, script: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX_IMAGE },
    command: ["sh", "-c", script],
    logPath: `${name}.log`,
    linux: { securityContext: { namespaceOptions: { network: "POD", pid: "CONTAINER", ipc: "POD" } }, ...extra },
  });
  const exec = async (id: string, cmd: string[]) => {
    const r = await rt.ExecSync!({ containerId: id, cmd, timeout: 30 });
    return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), exitCode: r.exitCode as number };
  };
  const status = async (id: string) => (await rt.ContainerStatus!({ containerId: id, verbose: true })) as { status: Record<string, any>; info: Record<string, string> };

  let step = "";
  const at = (name: string) => {
    step = name;
    o.progress?.(name);
  };
  let podId = "";
  let sandboxId = "";
  const cgroupDirs: string[] = [];
  try {
    at("Version");
    const version = await rt.Version!({ version: "v1" });
    eq("Version: the runtime speaks CRI v1", "v1", version.runtimeApiVersion);
    at("ImageStatus");
    const pause = await o.cri.image.ImageStatus!({ image: { image: PAUSE_IMAGE } });
    eq("ImageStatus: the locally built sandbox image is known", [PAUSE_IMAGE], pause.image?.repoTags ?? null);

    at("RunPodSandbox");
    podId = (await rt.RunPodSandbox!({ config: sandboxConfig })).podSandboxId;
    sandboxId = podId;
    const pod = (await rt.PodSandboxStatus!({ podSandboxId: podId })).status;
    eq("RunPodSandbox: the sandbox is ready", "SANDBOX_READY", pod.state);
    const prefix = POD_SUBNET.replace(/0\/24$/, "");
    ok("the pod has an address on the test network", String(pod.network?.ip).startsWith(prefix), `ip ${pod.network?.ip}, subnet ${POD_SUBNET}`);

    at("CreateContainer server");
    const resources = { resources: { memoryLimitInBytes: SERVER_MEMORY, cpuShares: 512 } };
    const annotations = Object.fromEntries((o.scopeProperties ?? []).map((p) => [p.annotation, p.value]));
    const serverConfig = { ...containerConfig("server", SERVER, resources), annotations };
    const server = (await rt.CreateContainer!({ podSandboxId: podId, config: serverConfig, sandboxConfig })).containerId;
    eq("CreateContainer: the server is created", "CONTAINER_CREATED", (await status(server)).status.state);
    at("StartContainer server");
    await rt.StartContainer!({ containerId: server });
    at("CreateContainer client");
    const client = (await rt.CreateContainer!({ podSandboxId: podId, config: containerConfig("client", CLIENT), sandboxConfig })).containerId;
    await rt.StartContainer!({ containerId: client });

    at("the client's log");
    const clientLog = join(o.logDir, "client.log");
    let log = "";
    for (let i = 0; i < 300 && !log.includes(BODY); i++) {
      await Bun.sleep(200);
      log = existsSync(clientLog) ? readFileSync(clientLog, "utf8") : "";
    }
    // CRI log lines: "<time> stdout F <text>"
    ok("the client reached the server on localhost (its CRI log)", / stdout F hello-from-server$/m.test(log), log.trim() || "(empty log)");

    at("ExecSync");
    const fetched = await exec(client, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]);
    eq("ExecSync: the client fetches the server's page over localhost", `${BODY}\n`, fetched.stdout);
    const ns = async (id: string, kind: string) => (await exec(id, ["readlink", `/proc/self/ns/${kind}`])).stdout.trim();
    const [srvNet, cliNet, srvIpc, cliIpc, srvPid, cliPid] = await Promise.all([
      ns(server, "net"), ns(client, "net"), ns(server, "ipc"), ns(client, "ipc"), ns(server, "pid"), ns(client, "pid"),
    ]);
    ok("the containers share the pod's network namespace, not the host's", srvNet === cliNet && srvNet.startsWith("net:") && srvNet !== ours("/proc/self/ns/net"), `${srvNet} ${cliNet}`);
    ok("the containers share the pod's IPC namespace, not the host's", srvIpc === cliIpc && srvIpc.startsWith("ipc:") && srvIpc !== ours("/proc/self/ns/ipc"), `${srvIpc} ${cliIpc}`);
    ok("each container has a PID namespace of its own", srvPid !== cliPid && srvPid.startsWith("pid:"), `${srvPid} ${cliPid}`);
    eq("the containers have the pod's hostname", "cripod", (await exec(server, ["hostname"])).stdout.trim());
    eq("ExecSync: stdout, stderr and the exit code of a failing command", { stdout: "out\n", stderr: "err\n", exitCode: 7 }, await exec(server, ["sh", "-c", "echo out; echo err >&2; exit 7"]));

    at("ContainerStatus");
    const running = await status(server);
    eq("ContainerStatus: the server is running", "CONTAINER_RUNNING", running.status.state);
    ok("ContainerStatus: started_at is set", running.status.startedAt > 0, `started_at ${running.status.startedAt}`);
    const pid = Number((JSON.parse(running.info.info ?? "{}") as { pid?: number }).pid);
    const cg = cgroupOf(pid);
    cgroupDirs.push(cg.dir, cgroupOf(Number((JSON.parse((await status(client)).info.info ?? "{}") as { pid?: number }).pid)).dir);
    eq("the server's memory limit is its cgroup's", String(SERVER_MEMORY), readFileSync(cg.limit, "utf8").trim());
    if (o.systemd) {
      ok("the server's cgroup is a systemd scope in the pod's slice", cg.dir.endsWith(`${o.cgroupParent}/cri-containerd-${server}.scope`), cg.dir);
      for (const p of o.scopeProperties ?? []) {
        const shown = Bun.spawnSync(["systemctl", "show", "-P", p.property, `cri-containerd-${server}.scope`]).stdout.toString().trim();
        eq(propertyCheck(p), p.shown, shown);
      }
    } else {
      ok("the server's cgroup is under the pod's cgroup parent", cg.dir.endsWith(`${o.cgroupParent}/${server}`), cg.dir);
    }

    at("ContainerStats");
    const stats = (await rt.ContainerStats!({ containerId: server })).stats;
    eq("ContainerStats: the stats are the server's", server, stats?.attributes?.id);
    ok("ContainerStats: memory working set > 0", Number(stats?.memory?.workingSetBytes?.value) > 0, JSON.stringify(stats?.memory));
    ok("ContainerStats: CPU time > 0", Number(stats?.cpu?.usageCoreNanoSeconds?.value) > 0, JSON.stringify(stats?.cpu));

    at("StopContainer");
    await rt.StopContainer!({ containerId: server, timeout: 10 });
    const stopped = (await status(server)).status;
    eq("StopContainer: the server left on SIGTERM with status 0", { state: "CONTAINER_EXITED", exitCode: 0 }, { state: stopped.state, exitCode: stopped.exitCode });
    const t0 = Date.now();
    await rt.StopContainer!({ containerId: client, timeout: 1 });
    const killed = (await status(client)).status;
    eq("StopContainer: the client, deaf to SIGTERM, is killed after the grace period (137)", { state: "CONTAINER_EXITED", exitCode: 137 }, { state: killed.state, exitCode: killed.exitCode });
    ok("StopContainer waited the grace period out", Date.now() - t0 >= 900, `${Date.now() - t0} ms`);

    at("RemoveContainer");
    await rt.RemoveContainer!({ containerId: server });
    await rt.RemoveContainer!({ containerId: client });
    const gone = await status(server).then(() => "still there", (e: Error) => e.message);
    ok("RemoveContainer: the server is gone", /not found|does not exist/i.test(gone), gone);

    at("StopPodSandbox");
    await rt.StopPodSandbox!({ podSandboxId: podId });
    eq("StopPodSandbox: the sandbox is not ready", "SANDBOX_NOTREADY", (await rt.PodSandboxStatus!({ podSandboxId: podId })).status.state);
    at("RemovePodSandbox");
    await rt.RemovePodSandbox!({ podSandboxId: podId });
    const podGone = await rt.PodSandboxStatus!({ podSandboxId: podId }).then(() => "still there", (e: Error) => e.message);
    ok("RemovePodSandbox: the sandbox is gone", /not found|does not exist/i.test(podGone), podGone);
    podId = "";
  } catch (e) {
    ok(STEPS_RAN, false, `${step}: ${(e as Error).message}`);
  } finally {
    if (podId) {
      await rt.StopPodSandbox!({ podSandboxId: podId }).catch(() => undefined);
      await rt.RemovePodSandbox!({ podSandboxId: podId }).catch(() => undefined);
    }
  }

  // What the pod left behind: nothing.
  eq("nothing left: network namespaces", [], entries(o.daemon.netnsDir));
  const veths = entries("/sys/class/net").filter((d) => ours(`/sys/class/net/${d}/master`).endsWith(`/${POD_BRIDGE}`));
  eq("nothing left: veths on the pod bridge", [], veths);
  eq("nothing left: IPAM reservations", [], entries(join(o.daemon.ipamDir, "mycr-cri-test")).filter((f) => /^\d/.test(f)));
  // libcni keeps each attachment's result there until the network is torn down
  eq("nothing left: CNI's cached results", [], sandboxId ? entries("/var/lib/cni/results").filter((f) => f.includes(sandboxId)) : []);
  eq("nothing left: mycr's state of the pod's containers", [], entries(join(o.daemon.runtimeRoot, "k8s.io")));
  eq("nothing left: the containers' cgroups", [], cgroupDirs.filter((d) => existsSync(d)));
  return checks;
}
