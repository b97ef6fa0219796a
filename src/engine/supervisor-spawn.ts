// Starting the supervisor (./supervisor.ts) for a client (./supervisor-client.ts): a
// `mycr supervisor` process given one end of a socket pair as STARTER_FD. On it the
// supervisor says "ready" (or why not); the client holds its end until it exits, so a
// supervisor that nobody came to sees the end of it and exits too.
//
// A `run -d` that finds no supervisor's socket and its locks free starts one before its
// CLI has loaded (main.ts calls startSupervisorEarly): the two Bun start-ups then overlap
// instead of following each other. That start is a guess from the words typed, made
// with nothing loaded (taking locks needs bun:ffi; /proc/locks is only looked at), so the
// supervisor checks it: it takes the start lock and its lifetime lock without waiting,
// as reach() would have, and says "busy" and exits when either is taken (reach() then
// goes its usual way). One started for a run that is not detached, or that fails, exits
// with its starter. Of many `run -d` at once one starts it early (claimEarlyStart); the
// others wait in reach().
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { ContainerError } from "../runtime/errors";
import { trace } from "../runtime/trace";
import { STARTER_FD, SUPERVISOR_MODE, readReadyLine, supervisorPaths, type SupervisorMode } from "./supervisor-messages";

/** Starts `mycr supervisor` and returns its first line (null when it exited without one). */
async function launch(command: string[], mode: SupervisorMode): Promise<string | null> {
  const stderr = supervisorStderr();
  const stdio: ["ignore", "ignore", "ignore" | number, "socket-fd"] = ["ignore", "ignore", stderr, "socket-fd"];
  let ours: number;
  try {
    const child = Bun.spawn(command, { stdio, env: { ...process.env, [SUPERVISOR_MODE]: mode }, cwd: "/" });
    child.unref();
    // Close-on-exec, and never closed by us: it closes when this process exits.
    ours = child.stdio[STARTER_FD] as number;
  } finally {
    if (typeof stderr === "number") closeSync(stderr);
  }
  return readReadyLine(ours);
}

/** Under MYCR_TRACE the supervisor's trace goes to its log, after its errors: it has no terminal. */
function supervisorStderr(): "ignore" | number {
  if (!process.env.MYCR_TRACE) return "ignore";
  try {
    return openSync(supervisorPaths().log, "a", 0o600);
  } catch {
    return "ignore";
  }
}

/** Starts a supervisor (the caller holds the start lock) and waits until it listens, or says why it cannot. */
export async function spawnSupervisor(command: string[]): Promise<void> {
  const line = await launch(command, "1");
  if (line !== "ready") throw new ContainerError(`mycr's supervisor did not start: ${line ?? "it exited"}`);
}

/** The early start of this process's supervisor: settled once it listens, or said why not. */
let early: Promise<unknown> | null = null;

/** Resolves once the supervisor this process started early (if any) listens, or gave up. */
export function earlySupervisor(): Promise<unknown> {
  return early ?? Promise.resolve();
}

/**
 * `mycr run -d ...` (argv without the program), run by root from the compiled binary:
 * starts the supervisor now when its socket is missing. Never throws: any doubt leaves
 * it to reach().
 */
export function startSupervisorEarly(argv: string[]): void {
  const compiled = process.argv[1]?.startsWith("/$bunfs/") === true; // from source: not worth the argv
  if (!compiled || process.getuid?.() !== 0 || !looksDetached(argv)) return; // rootless: its root is chosen later
  try {
    const { socket, lock, startLock } = supervisorPaths();
    if (existsSync(socket) || !existsSync(dirname(socket))) return; // one runs (or was killed), or no root yet
    if (flocked([lock, startLock])) return; // one is exiting, or a client is starting one
    const claim = claimEarlyStart(socket);
    if (!claim) return;
    trace("supervisor: early start");
    early = launch([process.execPath, "supervisor"], "early")
      .catch(() => null)
      .finally(() => claim.stop(true));
  } catch {
    // reach() starts it
  }
}

/**
 * One early start at a time per root: many `run -d` at once would otherwise each start a
 * supervisor, all but one to say "busy". The claim is a name in the abstract socket
 * namespace, bound while the start lasts: taken without bun:ffi, and let go by the
 * kernel if we die. Null when another client holds it.
 */
function claimEarlyStart(socket: string): { stop(closeActive: boolean): void } | null {
  try {
    return Bun.listen({ unix: `\0mycr-supervisor-early-${Bun.hash(socket).toString(16)}`, socket: { data() {} } });
  } catch {
    return null;
  }
}

/**
 * Whether any process holds a flock on one of `paths`, as /proc/locks says (no bun:ffi).
 * By inode only: a lock on a same-numbered file of another filesystem reads as held,
 * which only skips the early start.
 */
function flocked(paths: string[]): boolean {
  const inodes = new Set(paths.flatMap((p) => (existsSync(p) ? [String(statSync(p).ino)] : [])));
  if (inodes.size === 0) return false;
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .some((line) => line.includes(" FLOCK ") && inodes.has(line.trim().split(/\s+/)[5]?.split(":")[2] ?? ""));
}

/** `run` with -d (alone, in a cluster such as -dit, or --detach) before any `--`, without --bundle. */
function looksDetached(argv: string[]): boolean {
  if (argv[0] !== "run") return false;
  let detached = false;
  for (const word of argv.slice(1)) {
    if (word === "--") break;
    if (word === "--bundle" || word.startsWith("--bundle=") || word === "-b") return false;
    if (word === "--detach" || word === "--detach=true" || /^-[qtiP]*d[qtiP]*$/.test(word)) detached = true;
  }
  return detached;
}
