// `mycr run --network ...`: which network namespace a container gets and what is in it.
// none: loopback only. host: the host's namespace. container:NAME: another container's.
// bridge (the default when CNI plugins are installed) or a named network: a fresh
// namespace attached with CNI once init exists, detached again on every exit path.
import { closeSync, existsSync, openSync, rmSync, writeFileSync } from "node:fs";
import { bind, detach } from "../sys";
import { join } from "node:path";
import { cniAdd, cniDel, cniPath, type CniConflist, type CniResult } from "../net/cni";
import { hostsFile, resolvConf } from "../net/dns";
import { guardBridge } from "../net/loopback-guard";
import { bridgeOf, DEFAULT_NETWORK, loadNetwork, withNetworksLock } from "../net/networks";
import type { PortMapping } from "../net/ports";
import { ContainerError } from "../runtime/errors";
import { isRootless } from "../runtime/rootless";
import { pastaInstalled, startPasta } from "../net/pasta";
import { containerStatus, type StateStore } from "../runtime/state";
import { loadRuntime } from "./containers";
import type { Mount, Spec } from "../spec/types";

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
  | { kind: "container"; path: string }
  | { kind: "cni"; list: CniConflist; root: string };

export function planNetwork(req: NetworkRequest, root: string, store: StateStore): NetworkPlan {
  if (isRootless()) return planRootlessNetwork(req);
  if (req.mode === "pasta") throw new ContainerError("--network pasta: for rootless containers; root's containers use bridge networks (the default)");
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

/**
 * An ordinary user's container: pasta by default (none, with a notice, where it is not
 * installed), none or host on request; bridges and other containers' namespaces are root's.
 */
function planRootlessNetwork(req: NetworkRequest): NetworkPlan {
  const mode = req.mode ?? (pastaInstalled() ? "pasta" : "none");
  let plan: NetworkPlan;
  if (mode === "pasta") plan = { kind: "pasta" };
  else if (mode === "none" || mode === "host") {
    plan = { kind: mode, ...(req.mode === undefined ? { notice: "pasta not found (apt-get install passt): the container gets loopback only" } : {}) };
  } else if (mode.startsWith("container:")) {
    throw new ContainerError(`--network ${mode}: joining another container's network is not supported for rootless containers yet`);
  } else {
    throw new ContainerError(`--network ${mode}: bridge networks need root; rootless containers use pasta (--network pasta, the default) or none`);
  }
  if (req.ports.length > 0 && plan.kind !== "pasta") throw new ContainerError("-p publishes ports through pasta for rootless containers: drop --network none/host");
  return plan;
}

/** The files the container's /etc/resolv.conf and /etc/hosts are bound from; the netns pin and pasta's pid file. */
export function networkFiles(dir: string): { resolv: string; hosts: string; netns: string; pasta: string } {
  return { resolv: join(dir, "resolv.conf"), hosts: join(dir, "hosts"), netns: join(dir, "netns"), pasta: join(dir, "pasta.pid") };
}

/** Namespaces and mounts of the spec for the plan. */
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
export function attachNetwork(plan: NetworkPlan, req: NetworkRequest, id: string, pid: number, dir: string, names: string[]): CniResult | null {
  if (plan.kind === "none") return null;
  let result: CniResult | null = null;
  let ip: string | null = null;
  if (plan.kind === "pasta") startPasta(pid, req.ports, networkFiles(dir).pasta);
  if (plan.kind === "cni") {
    const netns = networkFiles(dir).netns;
    pinNetns(pid, netns);
    try {
      const { list, root } = plan;
      result = withNetworksLock(
        root,
        () => {
          loadNetwork(root, list.name); // not removed since planNetwork read it
          // Before the container is on the bridge: it may be hostile from its first packet.
          guardBridge(bridgeOf(list));
          return cniAdd(list, { containerId: id, netns, ifname: "eth0", runtimeConfig: { portMappings: req.ports } });
        },
        true,
      );
    } catch (e) {
      // Undo what the plugins before the failing one did (address, rules).
      try {
        detachNetwork(plan.list, id, null, netns, req.ports);
      } catch {
        // the first error is the one to report
      }
      throw new ContainerError((e as Error).message);
    }
    ip = result.ips?.[0]?.address.split("/")[0] ?? null;
  }
  const files = networkFiles(dir);
  writeFileSync(files.resolv, resolvConf(req.dns));
  writeFileSync(files.hosts, hostsFile(ip, names, req.addHosts));
  return result;
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
export function detachNetwork(list: CniConflist, id: string, result: CniResult | null, netns: string, ports: PortMapping[]): void {
  try {
    cniDel(list, { containerId: id, netns: existsSync(netns) ? netns : "", ifname: "eth0", runtimeConfig: { portMappings: ports } }, result);
  } finally {
    unpinNetns(netns);
  }
}
