// Whether this mycr is a rootless one: root in a user namespace that maps only part of
// the id space (the one `mycr` entered for an ordinary user, engine/rootless/enter.ts).
// Decided from /proc/self/uid_map, never from an environment variable: what the kernel
// maps is what we may do.
import { readFileSync } from "node:fs";

export interface RootlessIdentity {
  /** The host's uid of our root: the user who ran mycr. */
  hostUid: number;
  /**
   * The ranges of ids the namespace maps, as seen inside it. A container's own user
   * namespace maps each of them one to one: the kernel wants every range of a child's map
   * to lie within one range of its parent's.
   */
  uidRanges: Array<{ start: number; count: number }>;
  gidRanges: Array<{ start: number; count: number }>;
}

let cached: RootlessIdentity | null | undefined;

function parseMap(text: string): Array<{ inside: number; outside: number; count: number }> {
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isFinite))
    .map(([inside, outside, count]) => ({ inside: inside!, outside: outside!, count: count! }));
}

function insideRanges(maps: Array<{ inside: number; count: number }>): Array<{ start: number; count: number }> {
  return maps.map((m) => ({ start: m.inside, count: m.count })).sort((a, b) => a.start - b.start);
}

/** null on the host (the initial user namespace maps every id: "0 0 4294967295"). */
export function rootlessIdentity(): RootlessIdentity | null {
  if (cached !== undefined) return cached;
  const uid = parseMap(readFileSync("/proc/self/uid_map", "utf8"));
  if (uid.length === 1 && uid[0]!.inside === 0 && uid[0]!.outside === 0 && uid[0]!.count === 4294967295) {
    cached = null;
    return cached;
  }
  const gid = parseMap(readFileSync("/proc/self/gid_map", "utf8"));
  const root = uid.find((m) => m.inside === 0);
  cached = { hostUid: root ? root.outside : -1, uidRanges: insideRanges(uid), gidRanges: insideRanges(gid) };
  return cached;
}

export function isRootless(): boolean {
  return rootlessIdentity() !== null;
}

/** Root on the host: every namespace, cgroup and place of the host's is ours to enter and make. */
export function isHostRoot(): boolean {
  return process.getuid?.() === 0 && !isRootless();
}
