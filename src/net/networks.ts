// Named networks: CNI conflists kept under MYCR_ROOT/networks. The default network
// "mycr" is a bridge (mycr0) with its own subnet and masquerade for outbound traffic.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../runtime/atomic";
import { withLock, withLockAsync } from "../sys";
import type { CniConflist } from "./cni";

export const DEFAULT_NETWORK = "mycr";
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export class NetworkError extends Error {}

export function networksDir(root: string): string {
  return join(root, "networks");
}

function ipamDir(root: string): string {
  return join(root, "cni", "ipam");
}

/** host-local's state for one network: a file per leased address, named by it. */
export function networkIpamDir(root: string, name: string): string {
  return join(ipamDir(root), name);
}

/** The network's bridge device, as its conflist names it. */
export function bridgeOf(list: CniConflist): string {
  return String(list.plugins[0]?.bridge ?? "cni0"); // the bridge plugin's own default
}

/** The containers holding an address on the network: host-local's lease files (first line: the container id). */
export function networkLeases(root: string, name: string): Array<{ ip: string; containerId: string }> {
  const dir = networkIpamDir(root, name);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => /^\d+\.\d+\.\d+\.\d+$|:/.test(f))
    .map((ip) => {
      let containerId = "";
      try {
        containerId = readFileSync(join(dir, ip), "utf8").split(/\r?\n/)[0]!.trim();
      } catch {
        // released meanwhile
      }
      return { ip, containerId };
    });
}

/**
 * Serializes changes to the set of networks with the attachments to them: create and
 * rm take it exclusively; attaching a container holds it shared, so a network cannot
 * be removed between a container's check that it exists and its CNI ADD.
 */
export function withNetworksLock<T>(root: string, fn: () => T, shared = false): T {
  mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  return withLock(networksLockPath(root), fn, shared);
}

/** withNetworksLock for a section that runs subprocesses (CNI plugins, iptables). */
export async function withNetworksLockAsync<T>(root: string, fn: () => Promise<T>, shared = false): Promise<T> {
  mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  return withLockAsync(networksLockPath(root), fn, shared);
}

function networksLockPath(root: string): string {
  return join(networksDir(root), ".lock");
}

export function conflist(root: string, name: string, subnet: string, bridge: string): CniConflist {
  const gateway = subnet.replace(/\.0\/\d+$/, ".1");
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      {
        type: "bridge",
        bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet, gateway }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: ipamDir(root) },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "firewall", backend: "iptables" },
    ],
  };
}

export function listNetworks(root: string): CniConflist[] {
  ensureDefault(root);
  return readdirSync(networksDir(root))
    .filter((f) => f.endsWith(".conflist"))
    .map((f) => JSON.parse(readFileSync(join(networksDir(root), f), "utf8")) as CniConflist);
}

function subnetOf(list: CniConflist): string {
  const ipam = list.plugins[0]?.ipam as { ranges?: Array<Array<{ subnet: string }>> } | undefined;
  return ipam?.ranges?.[0]?.[0]?.subnet ?? "";
}

export function ensureDefault(root: string): void {
  const file = join(networksDir(root), `${DEFAULT_NETWORK}.conflist`);
  if (existsSync(file)) return;
  mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, JSON.stringify(conflist(root, DEFAULT_NETWORK, "10.89.0.0/24", "mycr0"), null, 2));
}

export function loadNetwork(root: string, name: string): CniConflist {
  ensureDefault(root);
  const file = join(networksDir(root), `${name}.conflist`);
  if (!NAME.test(name) || !existsSync(file)) throw new NetworkError(`network "${name}" does not exist (mycr network ls lists them)`);
  return JSON.parse(readFileSync(file, "utf8")) as CniConflist;
}

/** Creates a bridge network; without --subnet the next free 10.89.N.0/24. */
export function createNetwork(root: string, name: string, subnet?: string): CniConflist {
  if (!NAME.test(name)) throw new NetworkError(`invalid network name "${name}": letters, digits, '_', '.', '-'`);
  return withNetworksLock(root, () => createUnlocked(root, name, subnet));
}

function createUnlocked(root: string, name: string, subnet?: string): CniConflist {
  const existing = listNetworks(root);
  if (existing.some((n) => n.name === name)) throw new NetworkError(`network "${name}" already exists`);
  const taken = new Set(existing.map(subnetOf));
  if (subnet !== undefined) {
    if (!/^10\.\d{1,3}\.\d{1,3}\.0\/24$|^172\.(1[6-9]|2\d|3[01])\.\d{1,3}\.0\/24$|^192\.168\.\d{1,3}\.0\/24$/.test(subnet)) {
      throw new NetworkError(`--subnet ${subnet}: use a private /24 such as 10.90.0.0/24`);
    }
    if (taken.has(subnet)) throw new NetworkError(`--subnet ${subnet} overlaps network "${existing.find((n) => subnetOf(n) === subnet)!.name}"`);
  }
  let chosen = subnet;
  for (let n = 1; chosen === undefined && n < 255; n++) if (!taken.has(`10.89.${n}.0/24`)) chosen = `10.89.${n}.0/24`;
  if (!chosen) throw new NetworkError("no free subnet left in 10.89.0.0/16: give --subnet");
  const bridge = `mycr${new Bun.CryptoHasher("sha256").update(name).digest("hex").slice(0, 8)}`;
  const list = conflist(root, name, chosen, bridge);
  writeFileAtomic(join(networksDir(root), `${name}.conflist`), JSON.stringify(list, null, 2));
  return list;
}

/** The conflist, which is the network's existence: removed last, so a failed rm can be retried. */
export function removeConflist(root: string, name: string): void {
  rmSync(join(networksDir(root), `${name}.conflist`));
}

export function networkSubnet(list: CniConflist): string {
  return subnetOf(list);
}
