// Who a served run is for (./served-run-client.ts; docs/run.md, "Runs served by the
// supervisor"): the process at the other end of the supervisor's socket, read through
// /proc and a pidfd, never through what it says. A run is served only when the container
// would come out the same as if the client ran it itself: everything a container takes
// from the process that starts it (namespaces, credentials, capabilities, limits,
// scheduling, LSM label, the variables mycr reads) must be the supervisor's too.
// Otherwise the reason is returned and the client runs it.
import { readFileSync, readlinkSync } from "node:fs";
import { readNulSeparated } from "../sys/bytes";
import { close } from "../sys/fd";
import { peerCredentials, peerPidfd, pidfdAlive, pidfdGetfd } from "../sys/peer";
import { isTerminal } from "../sys/pty";

export interface ServedClient {
  pid: number;
  /** Its command line, bytes kept (sys/bytes.ts): the executable's words, then mycr's. */
  cmdline: string[];
  /** Its environment, bytes kept. */
  env: Record<string, string>;
  /** Its working directory: what relative paths in its words mean. */
  cwd: string;
  /** Our copies of its stdin, stdout and stderr (close-on-exec). */
  stdio: [number, number, number];
  /** Whether any of them is a terminal. */
  hasTerminal: boolean;
  /** Closes our copies. */
  release(): void;
}

/** Namespaces a container's are made from, or joined with --network host and such (a process's children may have other PID and time namespaces than its own). */
const NAMESPACES = ["mnt", "net", "pid", "pid_for_children", "ipc", "uts", "user", "cgroup", "time", "time_for_children"];

/** /proc/PID/status lines a container inherits, or that its start checks. */
const STATUS_LINES = ["Umask", "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Cpus_allowed", "Mems_allowed"];

/**
 * Other /proc/PID files a container inherits: rlimits, OOM score, audit identity,
 * personality, LSM label; and the cgroup, below which a container's own is made.
 */
const PROC_FILES = ["limits", "oom_score_adj", "loginuid", "personality", "attr/current", "cgroup"];

/** Environment variables that change what a run does: mycr's own, and those of the libraries and tools it uses. */
const VARIABLE_PREFIXES = ["MYCR_", "CNI_", "BUN_", "NODE_", "XDG_", "DBUS_", "SSL_", "LD_", "LC_"];
const VARIABLES = ["PATH", "HOME", "USER", "TMPDIR", "TZ", "LANG", "LANGUAGE", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "NOTIFY_SOCKET", ...["http_proxy", "https_proxy", "no_proxy", "all_proxy"].flatMap((v) => [v, v.toUpperCase()])];
/** ... but for the supervisor's own (how it was started) and MYCR_TRACE (which only tells where time goes). */
const NOT_COMPARED = /^(MYCR_SUPERVISOR|MYCR_TRACE$)/;

function readOrNull(read: () => string): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/** What a container would inherit from process `who` ("self" or a pid), as named properties. */
function inheritedBy(who: string): Map<string, string | null> {
  const file = (name: string) => readOrNull(() => readFileSync(`/proc/${who}/${name}`, "utf8"));
  const link = (name: string) => readOrNull(() => readlinkSync(`/proc/${who}/${name}`));
  const properties = new Map<string, string | null>();
  for (const ns of NAMESPACES) properties.set(`${ns} namespace`, link(`ns/${ns}`));
  properties.set("root directory", link("root"));
  const status = new Map((file("status") ?? "").split("\n").map((l) => [l.slice(0, l.indexOf(":")), l] as const));
  for (const line of STATUS_LINES) properties.set(line, status.get(line) ?? null);
  for (const name of PROC_FILES) properties.set(name, file(name));
  // priority, nice, rt_priority, policy: fields 18, 19, 40, 41 of stat (after "pid (comm) ")
  const stat = file("stat") ?? "";
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  properties.set("scheduling", [fields[15], fields[16], fields[37], fields[38]].join(" "));
  return properties;
}

/**
 * Our environment, read once: /proc/self/environ is what we were started with. The rest
 * is read each time: an administrator may change a running process's limits or CPUs.
 */
let ownEnvironment: Record<string, string> | null = null;

/** The first property of the client's process that differs from ours, or null. */
function differenceFrom(pid: number): string | null {
  const theirs = inheritedBy(String(pid));
  for (const [name, value] of inheritedBy("self")) if (theirs.get(name) !== value) return name;
  return null;
}

function shapesRun(name: string): boolean {
  return !NOT_COMPARED.test(name) && (VARIABLES.includes(name) || VARIABLE_PREFIXES.some((p) => name.startsWith(p)));
}

function environmentOf(who: string): Record<string, string> | null {
  const entries = readNulSeparated(`/proc/${who}/environ`);
  if (entries === null) return null;
  const env: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf("=");
    if (eq > 0 && !(e.slice(0, eq) in env)) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return env;
}

/** The first variable that shapes a run and differs between the two environments, or null. */
function variableDifference(theirs: Record<string, string>, ours: Record<string, string>): string | null {
  for (const name of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
    if (shapesRun(name) && theirs[name] !== ours[name]) return name;
  }
  return null;
}

/** The client at the other end of `socket` (an fd of ours), or why its run is not served here. */
export function takeClient(socket: number): ServedClient | string {
  const cred = peerCredentials(socket);
  if (cred.pid <= 0) return "its PID namespace is not ours";
  if (cred.uid !== process.geteuid?.()) return `it runs as uid ${cred.uid}`;
  let pidfd: number;
  try {
    pidfd = peerPidfd(socket, cred.pid);
  } catch (e) {
    return (e as Error).message;
  }
  const taken: number[] = [];
  const release = () => taken.splice(0).forEach(close);
  try {
    const difference = differenceFrom(cred.pid);
    if (difference !== null) return `not the supervisor's: ${difference}`;
    const env = environmentOf(String(cred.pid));
    const ours = (ownEnvironment ??= environmentOf("self"));
    if (env === null || ours === null) return "its environment cannot be read";
    const variable = variableDifference(env, ours);
    if (variable !== null) return `not the supervisor's: ${variable}`;
    const cmdline = readNulSeparated(`/proc/${cred.pid}/cmdline`);
    const cwd = readOrNull(() => readlinkSync(`/proc/${cred.pid}/cwd`));
    if (cmdline === null || cwd === null || !cwd.startsWith("/") || cwd.endsWith(" (deleted)")) return "its command line or directory cannot be read";
    for (const fd of [0, 1, 2]) taken.push(pidfdGetfd(pidfd, fd));
    // Still alive after all of it: everything read above was this client's, not a reused pid's.
    if (!pidfdAlive(pidfd)) {
      release();
      return "it exited";
    }
    return { pid: cred.pid, cmdline, env, cwd, stdio: taken as [number, number, number], hasTerminal: taken.some(isTerminal), release };
  } catch (e) {
    release();
    return `it could not be read: ${(e as Error).message}`;
  } finally {
    close(pidfd);
  }
}
