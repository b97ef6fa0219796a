// The host's loopback is out of the containers' reach (CVE-2020-8558 and its class).
//
// The portmap plugin sets route_localnet=1 on a network's bridge, and publishing to
// 127.0.0.1 needs it: a host process's packet to 127.0.0.1:PORT is DNATed to the
// container in nat OUTPUT and leaves through the bridge still from 127.0.0.1 (masquerade
// rewrites the source only later, in POSTROUTING), and the kernel routes a packet from
// 127/8 out of a non-loopback device only where route_localnet is set. But the flag also
// makes the kernel accept packets that arrive on the bridge for, or from, 127.0.0.0/8:
// a container with CAP_NET_RAW that addresses a frame to the bridge's MAC reaches every
// host service bound to loopback, and the flag outlives the container.
//
// So every bridge of a mycr network gets two rules in raw PREROUTING, the first hook a
// packet meets, before routing and conntrack: drop what arrives on the bridge for
// 127.0.0.0/8 or from it. Nothing legitimate does: the replies of a published port's
// hairpin arrive addressed to the bridge's own address and are translated back to
// 127.0.0.1 only after raw (in nat PREROUTING). The rules go in before the first
// container is attached and leave with the bridge (`network rm`). IPv6 needs none: the
// kernel never accepts ::1 from a non-loopback device.
import { withLock, withLockAsync } from "../sys";

export class GuardError extends Error {}

/** Every guard rule carries it: the leak check and `network rm` find them by it. */
export const GUARD_COMMENT = "mycr: no loopback from containers";

/** iptables rules are machine-wide, so is the lock that keeps check-then-insert atomic. */
const LOCK = "/run/lock/mycr-netfilter.lock";

function rules(bridge: string): string[][] {
  const tail = ["-m", "comment", "--comment", GUARD_COMMENT, "-j", "DROP"];
  return [
    ["-i", bridge, "-d", "127.0.0.0/8", ...tail],
    ["-i", bridge, "-s", "127.0.0.0/8", ...tail],
  ];
}

function iptables(args: string[]): { ok: boolean; error: string } {
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    // -w: wait for the xtables lock that the CNI plugins take too.
    r = Bun.spawnSync(["iptables", "-w", "-t", "raw", ...args], { stdout: "ignore", stderr: "pipe" });
  } catch {
    throw new GuardError("iptables not found: install iptables (bridge networks need it for the CNI plugins and for mycr's loopback guard)");
  }
  return { ok: r.exitCode === 0, error: r.stderr?.toString().trim().split("\n")[0] ?? "" };
}

/** iptables without blocking the thread: for the start of a container (the supervisor starts many). */
async function iptablesAsync(args: string[]): Promise<{ ok: boolean; error: string }> {
  let r;
  try {
    r = Bun.spawn(["iptables", "-w", "-t", "raw", ...args], { stdout: "ignore", stderr: "pipe" });
  } catch {
    throw new GuardError("iptables not found: install iptables (bridge networks need it for the CNI plugins and for mycr's loopback guard)");
  }
  const [stderr, code] = await Promise.all([new Response(r.stderr).text(), r.exited]);
  return { ok: code === 0, error: stderr.trim().split("\n")[0] ?? "" };
}

/** Installs the bridge's drop rules unless they are there (idempotent; safe to race). */
export async function guardBridge(bridge: string): Promise<void> {
  await withLockAsync(LOCK, async () => {
    for (const rule of rules(bridge)) {
      if ((await iptablesAsync(["-C", "PREROUTING", ...rule])).ok) continue;
      const added = await iptablesAsync(["-I", "PREROUTING", "1", ...rule]);
      if (!added.ok) throw new GuardError(`cannot guard bridge ${bridge} against packets to the host's loopback: iptables: ${added.error}`);
    }
  });
}

/** Removes the bridge's drop rules, every copy of them. */
export function unguardBridge(bridge: string): void {
  withLock(LOCK, () => {
    for (const rule of rules(bridge)) {
      for (let i = 0; i < 100 && iptables(["-D", "PREROUTING", ...rule]).ok; i++);
    }
  });
}
