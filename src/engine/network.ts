// `mycr run --network ...`: which network namespace a container gets and what is in it.
// none: loopback only. host: the host's namespace. container:NAME: another container's.
// bridge (the default when CNI plugins are installed) or a named network: a fresh
// namespace attached with CNI once init exists, detached again on every exit path.
import { closeSync, existsSync, openSync, rmSync, writeFileSync } from "node:fs";
import { bind, detach } from "../sys";
import { join } from "node:path";
import { cniAdd, cniDel, cniPath, type CniConflist, type CniResult } from "../net/cni";
import { hostsFile, resolvConf } from "../net/dns";
import { trace } from "../runtime/trace";
import { bridgeOf, DEFAULT_NETWORK, loadNetwork, withNetworksLockAsync } from "../net/networks";
import type { PortMapping } from "../net/ports";
import { ContainerError } from "../runtime/errors";
import { isRootless } from "../runtime/rootless";
import { pastaInstalled, startPasta, stopPasta } from "../net/pasta";
import { containerStatus, type StateStore } from "../runtime/state";
import { loadRuntime } from "./containers";
import { hostsBasePath, refreshNetworkHosts } from "./network-hosts";
import { updateRecord, type EngineRecord } from "./record";
import type { Mount, Spec } from "../spec/types";

// Loaded when a network of their kind is attached or a user-mode one stopped: slirp4netns
// (rootless, on request) and the bridge's loopback guard (CNI networks); `run --network
// none` loads neither.
const slirp4netns = () => import("../net/slirp4netns");
const loopbackGuard = () => import("../net/loopback-guard");

export interface NetworkRequest {
  /** --network as given; undefined: bridge when CNI plugins are there, else none. */
  mode?: string;
  ports: PortMapping[];
  /** -P: publish every port the image exposes, on free host ports. */
  publishAll?: boolean;
  dns: string[];
  addHosts: Array<{ host: string; ip: string }>;
}

export type NetworkPlan =
  | { kind: "none" | "host"; notice?: string }
  /** Rootless: pasta connects the container's own namespace through the user's sockets (net/pasta.ts). */
  | { kind: "pasta" }
  /** Rootless, on request: slirp4netns's user-space stack NATs it onto the user's sockets (net/slirp4netns.ts). */
  | { kind: "slirp4netns" }
  | { kind: "container"; path: string }
  | { kind: "cni"; list: CniConflist; root: string };

export function planNetwork(req: NetworkRequest, root: string, store: StateStore): NetworkPlan {
  if (isRootless()) return planRootlessNetwork(req);
  if (req.mode === "pasta" || req.mode === "slirp4netns") throw new ContainerError(`--network ${req.mode}: for rootless containers; root's containers use bridge networks (the default)`);
  let mode = req.mode;
  let notice: string | undefined;
  if (mode === undefined) {
    mode = cniPath().length > 0 ? "bridge" : "none";
    if (mode === "none") notice = "no CNI plugins found (apt-get install containernetworking-plugins): the container gets loopback only";
  }
  let plan: NetworkPlan;
  if (mode === "none" || mode === "host") plan = { kind: mode, ...(notice ? { notice } : {}) };
  else if (mode.startsWith("container:")) {
    const other = loadRuntime(store, mode.slice("container:".length));
    if (containerStatus(other) !== "running") throw new ContainerError(`--network ${mode}: that container is not running`);
    plan = { kind: "container", path: `/proc/${other.init!.pid}/ns/net` };
  } else {
    if (cniPath().length === 0) throw new ContainerError(`--network ${mode}: CNI plugins not found (apt-get install containernetworking-plugins, or set CNI_PATH)`);
    try {
      plan = { kind: "cni", list: loadNetwork(root, mode === "bridge" ? DEFAULT_NETWORK : mode), root };
    } catch (e) {
      throw new ContainerError((e as Error).message);
    }
  }
  if (req.ports.length > 0 && plan.kind !== "cni") throw new ContainerError("-p publishes ports on a bridge network: drop --network none/host/container:");
  return plan;
}

/** Whether the plan is a user-mode network (pasta or slirp4netns): its -p ports are no CNI network's. */
export function isUserNetwork(plan: NetworkPlan): boolean {
  return plan.kind === "pasta" || plan.kind === "slirp4netns";
}

/**
 * An ordinary user's container: pasta by default (none, with a notice, where it is not
 * installed), slirp4netns, none or host on request; bridges and other containers'
 * namespaces are root's.
 */
function planRootlessNetwork(req: NetworkRequest): NetworkPlan {
  const mode = req.mode ?? (pastaInstalled() ? "pasta" : "none");
  let plan: NetworkPlan;
  if (mode === "pasta" || mode === "slirp4netns") plan = { kind: mode };
  else if (mode === "none" || mode === "host") {
    plan = { kind: mode, ...(req.mode === undefined ? { notice: "pasta not found (apt-get install passt): the container gets loopback only" } : {}) };
  } else if (mode.startsWith("container:")) {
    throw new ContainerError(`--network ${mode}: joining another container's network is not supported for rootless containers yet`);
  } else {
    throw new ContainerError(`--network ${mode}: bridge networks need root; rootless containers use pasta (--network pasta, the default), slirp4netns or none`);
  }
  if (req.ports.length > 0 && !isUserNetwork(plan)) throw new ContainerError("-p publishes ports through pasta or slirp4netns for rootless containers: drop --network none/host");
  return plan;
}

/** The files the container's /etc/resolv.conf and /etc/hosts are bound from; the netns pin; pasta's and slirp4netns's pid files. */
export function networkFiles(dir: string): { resolv: string; hosts: string; netns: string; pasta: string; slirp4netns: string } {
  return { resolv: join(dir, "resolv.conf"), hosts: join(dir, "hosts"), netns: join(dir, "netns"), pasta: join(dir, "pasta.pid"), slirp4netns: join(dir, "slirp4netns.pid") };
}

/** Ends a rootless container's pasta or slirp4netns (each outlives the namespace it served otherwise). */
export async function stopUserNetwork(dir: string): Promise<void> {
  const files = networkFiles(dir);
  await stopPasta(files.pasta);
  await (await slirp4netns()).stopSlirp4netns(files.slirp4netns);
}

/** Namespaces and mounts of the spec for the plan. */
/**
 * The files applyNetwork binds, empty until attachNetwork writes them in place (same
 * inode): the native init mounts them before the network is attached.
 */
export function createNetworkFiles(plan: NetworkPlan, dir: string): void {
  if (plan.kind === "none") return;
  const files = networkFiles(dir);
  for (const f of [files.resolv, files.hosts]) closeSync(openSync(f, "a"));
}

export function applyNetwork(spec: Spec, plan: NetworkPlan, dir: string): void {
  const linux = spec.linux!;
  if (plan.kind === "host") linux.namespaces = linux.namespaces!.filter((n) => n.type !== "network");
  if (plan.kind === "container") linux.namespaces = linux.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: plan.path } : n));
  if (plan.kind === "none") return;
  const files = networkFiles(dir);
  const bind = (source: string, destination: string): Mount => ({ destination, type: "bind", source, options: ["rbind", "rw"] });
  spec.mounts!.push(bind(files.resolv, "/etc/resolv.conf"), bind(files.hosts, "/etc/hosts"));
}

/** After init exists: CNI ADD into its namespace, then the name files. Returns the CNI result. */
export async function attachNetwork(plan: NetworkPlan, req: NetworkRequest, id: string, pid: number, dir: string, names: string[]): Promise<CniResult | null> {
  if (plan.kind === "none") return null;
  let result: CniResult | null = null;
  let ip: string | null = null;
  if (plan.kind === "pasta") startPasta(pid, req.ports, networkFiles(dir).pasta);
  const slirp = plan.kind === "slirp4netns" ? await slirp4netns() : null;
  if (slirp) await slirp.startSlirp4netns(pid, req.ports, dir, networkFiles(dir).slirp4netns);
  if (plan.kind === "cni") {
    const netns = networkFiles(dir).netns;
    pinNetns(pid, netns);
    try {
      const { list, root } = plan;
      result = await withNetworksLockAsync(
        root,
        async () => {
          loadNetwork(root, list.name); // not removed since planNetwork read it
          trace("network: locked");
          // Before the container is on the bridge: it may be hostile from its first packet.
          await (await loopbackGuard()).guardBridge(bridgeOf(list));
          trace("network: guarded");
          return await cniAdd(list, { containerId: id, netns, ifname: "eth0", runtimeConfig: { portMappings: req.ports } });
        },
        true,
      );
    } catch (e) {
      // Undo what the plugins before the failing one did (address, rules).
      try {
        await detachNetwork(plan.list, id, null, netns, req.ports);
      } catch {
        // the first error is the one to report
      }
      throw new ContainerError((e as Error).message);
    }
    trace("network: attached");
    ip = result.ips?.[0]?.address.split("/")[0] ?? null;
  }
  const files = networkFiles(dir);
  // slirp4netns's forwarder reaches the host's own resolvers, those on its loopback too
  writeFileSync(files.resolv, resolvConf(slirp && req.dns.length === 0 ? [slirp.SLIRP_DNS] : req.dns));
  const hosts = hostsFile(ip, names, req.addHosts);
  writeFileSync(files.hosts, hosts);
  // peers' names come in once the record holds this address (run.ts: announceOnNetwork)
  if (plan.kind === "cni" && ip) writeFileSync(hostsBasePath(files.hosts), hosts);
  return result;
}

/** After the record holds the container's address: it and its peers learn each other's names. */
export function announceOnNetwork(record: EngineRecord): void {
  if (record.network?.result) refreshNetworkHosts(record.network.list.name);
}

/** Before CNI DEL: the record says it is leaving, and its peers forget its names. */
export function leaveNetwork(record: EngineRecord, onProblem: (message: string) => void): void {
  if (!record.network?.result) return;
  try {
    updateRecord({ ...record, network: { ...record.network, leaving: true } });
    refreshNetworkHosts(record.network.list.name);
  } catch (e) {
    onProblem(`network: telling peers it left: ${(e as Error).message}`); // the detach itself goes on
  }
}

/**
 * The container's network namespace, kept alive by a bind mount of its nsfs file until
 * CNI DEL has run: the plugins need it to find what to remove (the bridge plugin reads
 * the interface's addresses to take down its masquerade rules), and the container's pid
 * may belong to another process by then.
 */
export function pinNetns(pid: number, file: string): void {
  closeSync(openSync(file, "w", 0o600));
  bind(`/proc/${pid}/ns/net`, file, false);
}

export function unpinNetns(file: string): void {
  try {
    detach(file);
  } catch {
    // not mounted (any more)
  }
  rmSync(file, { force: true });
}

/**
 * CNI DEL through the pinned namespace (or none, if it is gone), then unpin it. The
 * spec wants DEL to see what ADD saw: the same runtimeConfig (portmap finds its rules by it).
 */
export async function detachNetwork(list: CniConflist, id: string, result: CniResult | null, netns: string, ports: PortMapping[]): Promise<void> {
  try {
    await cniDel(list, { containerId: id, netns: existsSync(netns) ? netns : "", ifname: "eth0", runtimeConfig: { portMappings: ports } }, result);
  } finally {
    unpinNetns(netns);
  }
}
