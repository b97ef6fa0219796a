// findLeaks() narrowed to what this test file made. Other engineers and CI jobs may run
// mycr on the same host at the same time; their cgroups and containers must not fail a
// test that checks its own cleanup hundreds of times. test/run.ts still runs the full,
// unfiltered findLeaks() after every file.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, TEST_STATE } from "./env";
import { findLeaks } from "./leaks";

/** Our own memory cgroup: on this kind of host each session has its own, so it tells containers apart. */
function ownMemoryCgroup(): string | null {
  try {
    const line = readFileSync("/proc/self/cgroup", "utf8").split("\n").find((l) => /^\d+:memory:/.test(l));
    const path = line?.split(":")[2];
    return path && path !== "/" ? path : null;
  } catch {
    return null;
  }
}

const OWN_MEMORY = ownMemoryCgroup();

function mentionsOurs(text: string, ids: Set<string>): boolean {
  if (OWN_MEMORY && text.includes(`${OWN_MEMORY}/`)) return true;
  for (const id of ids) if (text.includes(id)) return true;
  return false;
}

/** Container ids this test's stores hold right now: remember them before cleaning up. */
export function idsInStores(): string[] {
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return [...list(TEST_STATE), ...list(join(TEST_ROOT, "containers"))];
}

/**
 * Leaks that are ours: anything in our stores, mounts naming our stores or `paths`,
 * processes of our mycr binary, and cgroups and container processes that belong to one
 * of `ids` (or to our own memory cgroup).
 */
export function ownLeaks(baseline: Set<string>, ids: Set<string>, paths: string[] = []): string[] {
  const ourPaths = [TEST_ROOT, TEST_STATE, ...paths];
  return findLeaks(baseline).filter((leak) => {
    if (leak.startsWith("mount: ")) return ourPaths.some((p) => leak.includes(p));
    if (leak.startsWith("cgroup ")) return mentionsOurs(leak, ids);
    if (leak.startsWith("container process ")) {
      const pid = leak.slice("container process ".length).split(":")[0]!;
      try {
        return mentionsOurs(readFileSync(`/proc/${pid}/cgroup`, "utf8"), ids);
      } catch {
        return false; // gone meanwhile
      }
    }
    // Bridges and firewall rules are the host's, not one root's: test/run.ts judges them.
    if (leak.startsWith("bridge ") || leak.startsWith("loopback guard rule ")) return false;
    return true; // state, container and IPAM dirs in our stores, processes of our binary
  });
}

/** ownLeaks() once things have had `ms` to settle (processes being reaped, lazy unmounts). */
export async function settledOwnLeaks(baseline: Set<string>, ids: Set<string>, paths: string[] = [], ms = 3000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const leaks = ownLeaks(baseline, ids, paths);
    if (leaks.length === 0 || Date.now() > deadline) return leaks;
    await Bun.sleep(25);
  }
}
