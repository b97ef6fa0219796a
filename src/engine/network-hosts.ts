// Names on user networks: containers on the same network (not the default one, as in
// docker) reach each other by --name and host name. mycr has no daemon to run docker's
// embedded DNS server in, so each container's /etc/hosts carries its peers, and every
// join and leave of the network rewrites the hosts files of everyone on it:
//  - the list is recomputed each time from the engine records (who is attached, at
//    which address, under which names), never patched, so it cannot drift: a peer
//    whose mycr died drops out at the next change (gc's CNI DEL is one);
//  - one rewrite at a time (a lock), each after the record changed: on join once the
//    record holds the address, on leave once it says `leaving` (then CNI DEL). Whoever
//    changed a record last rewrites last, with every change in view;
//  - each file is rewritten in place (write, then truncate): /etc/hosts is a bind mount
//    of that very inode, which a rename would leave behind. A reader may, for an
//    instant, see the file half-written; resolvers read it again on the next lookup;
//  - what mycr writes comes from its own records and `hosts.base` (the container's own
//    lines, kept beside it where the container cannot write); the container's edits to
//    its /etc/hosts are replaced at the next change, as docker replaces them.
import { ftruncateSync, openSync, closeSync, readFileSync, readdirSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import { DEFAULT_NETWORK } from "../net/networks";
import { withLock } from "../sys";
import { containerDir, containersDir, dataRoot } from "./paths";
import { ownerAlive, readRecord } from "./record";

export interface HostsPeer {
  id: string;
  ip: string;
  names: string[];
}

/** The file beside hosts holding the container's own lines (localhost, its names, --add-host). */
export function hostsBasePath(hostsFile: string): string {
  return `${hostsFile}.base`;
}

/** Containers attached to `network` now, by their records. */
function peersOn(network: string): HostsPeer[] {
  let ids: string[];
  try {
    ids = readdirSync(containersDir());
  } catch {
    return [];
  }
  const peers: HostsPeer[] = [];
  for (const id of ids) {
    const record = readRecord(containerDir(id));
    const net = record?.network;
    const ip = net?.result?.ips?.[0]?.address.split("/")[0];
    if (!net || net.leaving || net.list.name !== network || !ip || !ownerAlive(record)) continue;
    peers.push({ id, ip, names: net.names ?? (record!.name ? [record!.name] : []) });
  }
  return peers;
}

/** Replaces the content of an existing file in place, never following a symlink. */
function rewriteInPlace(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  } catch {
    return; // its container is leaving: nothing to update
  }
  try {
    const data = Buffer.from(text);
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off, off);
    ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
}

function hostsText(base: string, self: string, peers: HostsPeer[], network: string): string {
  const others = peers.filter((p) => p.id !== self && p.names.length > 0);
  if (others.length === 0) return base;
  return `${base}# containers on network ${network}\n${others.map((p) => `${p.ip}\t${p.names.join(" ")}`).join("\n")}\n`;
}

/** Rewrites the hosts file of every container on `network` (a user network) from the records. */
export function refreshNetworkHosts(network: string): void {
  if (network === DEFAULT_NETWORK) return; // docker's default bridge: by address only
  withLock(join(dataRoot(), "hosts.lock"), () => {
    const peers = peersOn(network);
    for (const p of peers) {
      const hosts = join(containerDir(p.id), "hosts");
      let base: string;
      try {
        base = readFileSync(hostsBasePath(hosts), "utf8");
      } catch {
        continue; // attached before names on networks existed, or leaving
      }
      rewriteInPlace(hosts, hostsText(base, p.id, peers, network));
    }
  });
}
