// A rootless container's network: pasta (Debian's passt package) gives the container's
// namespace a tap device whose traffic it turns into ordinary sockets of the user's on the
// host, so outbound connections leave as the user's own, and forwards -p ports from host
// sockets it opens as the user. Why pasta rather than slirp4netns: docs/rootless.md.
//
// What pasta is told, and why:
// - --config-net: it sets the address, routes and the link up in the namespace itself;
// - -t/-u none unless -p asks (pasta's default "auto" would publish every port the
//   container listens on), -T/-U none (its default would let the container reach every
//   port bound on the host's loopback through its own 127.0.0.1);
// - the gateway address stays mapped to the host's loopback (pasta's default): a server
//   the user runs on 127.0.0.1 is reachable at the gateway. That is what the user can
//   reach already, so it is no escape (issue 13's guard is about root's bridges).
import { readFileSync, rmSync } from "node:fs";
import { processesWithArgument } from "../runtime/procfs";
import type { PortMapping } from "./ports";

export function pastaInstalled(): boolean {
  return Bun.which("pasta") !== null;
}

/** pasta's words for one -p: [ADDR/]HOST_PORT:CONTAINER_PORT. */
export function pastaPortSpec(p: PortMapping): string {
  return `${p.hostIP ? `${p.hostIP}/` : ""}${p.hostPort}:${p.containerPort}`;
}

export function pastaArgs(ports: PortMapping[], pidFile: string, target: number): string[] {
  const forwards = (protocol: "tcp" | "udp", flag: string) => {
    const specs = ports.filter((p) => p.protocol === protocol).map(pastaPortSpec);
    return specs.length > 0 ? specs.flatMap((s) => [flag, s]) : [flag, "none"];
  };
  return ["pasta", "--config-net", "--quiet", ...forwards("tcp", "-t"), ...forwards("udp", "-u"), "-T", "none", "-U", "none", "-P", pidFile, String(target)];
}

/** pasta's own explanation, or a hint for the failure seen most: /dev/net/tun closed to users. */
function explain(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("Failed to send"));
  const last = lines.at(-1) ?? "";
  if (/tun/i.test(last)) return `${last} (pasta needs /dev/net/tun open to users: mode 0666, as udev sets it on most hosts)`;
  return last || "no message";
}

/**
 * Connects the network namespace of `pid` (the container's init, in its own user
 * namespace) and returns pasta's pid once the namespace is configured: pasta goes to
 * the background only then.
 */
export function startPasta(pid: number, ports: PortMapping[], pidFile: string): number {
  let result;
  try {
    result = Bun.spawnSync(pastaArgs(ports, pidFile, pid), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  } catch {
    throw new Error("pasta not found: rootless networking needs it (apt-get install passt), or use --network none");
  }
  if (result.exitCode !== 0) throw new Error(`pasta: ${explain(result.stderr.toString())}`);
  const started = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(started) || started <= 0) throw new Error(`pasta: no pid in ${pidFile}`);
  return started;
}

const PASTA_NAME = /^(pasta|passt)/;

/**
 * Ends the pasta of a container (it outlives the namespace otherwise) and forgets its
 * pid file. The pid is pasta's only while the process by that pid is a pasta: a pid
 * file left by a crash may name someone else's process by now.
 *
 * The pid file is not enough: a mycr killed while pasta was still configuring the
 * namespace leaves a pasta that has not written it yet (it writes it after it forks into
 * the background, and the fork makes a second pid). Every pasta was told the pid file's
 * path, so the ones still running are found by it, again after each kill, until none is
 * new.
 */
export async function stopPasta(pidFile: string): Promise<void> {
  const ended = new Set<number>();
  const end = (pid: number): void => {
    ended.add(pid);
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone meanwhile
    }
  };
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && PASTA_NAME.test(readFileSync(`/proc/${pid}/comm`, "utf8"))) end(pid);
  } catch {
    // already gone (its pid file with it, or never written)
  }
  for (let round = 0; round < 20; round++) {
    const fresh = processesWithArgument(PASTA_NAME, pidFile).filter((pid) => !ended.has(pid));
    if (fresh.length === 0) break;
    fresh.forEach(end);
    await Bun.sleep(20); // a pasta ended in the middle of its fork leaves the child
  }
  rmSync(pidFile, { force: true });
}
