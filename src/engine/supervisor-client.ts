// The client's side of the supervisor (./supervisor.ts): `run -d` and `start` hand it a
// recorded container and wait until its process runs. It finds the supervisor at its
// socket, or starts one (./supervisor-spawn.ts), one client at a time (the start lock), and
// tries again when it met a supervisor that was exiting.
import { ContainerError } from "../runtime/errors";
import { selfCommand } from "../runtime/self";
import { trace } from "../runtime/trace";
import { tryLock, unlock } from "../sys/lock";
import { withEngineLock } from "./detached";
import { spawnSupervisor } from "./supervisor-spawn";
import { encodeMessage, supervisorPaths, type AttachReport, type AttachRequest, type SupervisorReport } from "./supervisor-messages";
import { connect, type SupervisorConnection } from "./message-lines";
import { dataRoot } from "./paths";

/** Exiting supervisors met in a row before we give up (each costs one start). */
const ATTEMPTS = 5;

async function takeStartLock(path: string): Promise<number> {
  for (;;) {
    const fd = tryLock(path);
    if (fd !== null) return fd;
    await Bun.sleep(10);
  }
}

/** A connection to the running supervisor, starting one when there is none. */
async function reach(): Promise<SupervisorConnection<SupervisorReport> | null> {
  const paths = supervisorPaths();
  const conn = await connect<SupervisorReport>(paths.socket);
  if (conn) return conn;
  // One client at a time finds out whether another has just started one.
  const lock = await takeStartLock(paths.startLock);
  try {
    return (await connect<SupervisorReport>(paths.socket)) ?? (await spawnSupervisor(selfCommand("supervisor")), await connect<SupervisorReport>(paths.socket));
  } finally {
    unlock(lock);
  }
}

/**
 * Hands the recorded container `id` to the supervisor and returns once its process runs.
 * When it never ran, the error is thrown; `undo` runs under the engine lock first unless
 * the supervisor reported the error (it then cleaned up itself).
 */
export async function startSupervised(id: string, undo: () => void): Promise<void> {
  let cleanedUp = false;
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      trace("supervisor: reach");
      const conn = await reach();
      if (!conn) continue;
      conn.socket.write(encodeMessage({ type: "start", id, root: dataRoot() }));
      const first = await conn.next();
      if (first === null) continue; // an exiting supervisor reset us before accepting: again
      trace(`supervisor: ${first.type}`);
      const accepted = first.type === "accepted";
      const report = accepted ? await conn.next() : first;
      conn.socket.end();
      trace(`supervisor: ${report?.type ?? "closed"}`);
      if (report?.type === "started") return;
      if (report?.type === "error") {
        cleanedUp = accepted;
        throw new ContainerError(report.message, report.code);
      }
      throw new ContainerError("mycr's supervisor exited before the container started");
    }
    throw new ContainerError(`could not reach mycr's supervisor at ${supervisorPaths().socket} (${ATTEMPTS} tries)`);
  } catch (e) {
    if (!cleanedUp) withEngineLock(undo);
    throw e;
  }
}

/** How long a client waits at most for a supervisor that is being started. */
const STARTING_MS = 10_000;

/**
 * A connection to the running supervisor; while a client holds the start lock (a
 * supervisor is being started: right after the first `run -d`, ./adopt.ts, its socket
 * comes once the container runs), waits for it. Null when none runs or comes.
 */
async function connectWhileStarting<T>(): Promise<SupervisorConnection<T> | null> {
  const paths = supervisorPaths();
  const deadline = Date.now() + STARTING_MS;
  for (;;) {
    const conn = await connect<T>(paths.socket);
    if (conn || Date.now() > deadline) return conn;
    const free = tryLock(paths.startLock);
    if (free !== null) {
      unlock(free);
      return connect<T>(paths.socket); // it may have come between the two looks
    }
    await Bun.sleep(10);
  }
}

/** What an attached client does with its own stdin and terminal. */
export interface AttachIo {
  output: (stream: "stdout" | "stderr", data: Buffer) => void;
  /** Once the supervisor took us: starts passing input on through `send`; returns its undo. */
  onAccepted: (send: (request: AttachRequest) => void, detach: () => void) => () => void;
}

/**
 * Attaches to the running detached container `id`: its output is passed on as it comes,
 * and its exit code returned once it exited ("detached": the user left with the detach
 * keys; null: the supervisor went away).
 */
export async function attachSupervised(id: string, io: AttachIo): Promise<number | "detached" | null> {
  const conn = await connectWhileStarting<SupervisorReport | AttachReport>();
  if (!conn) throw new ContainerError(`container ${id} is not running (no supervisor keeps it)`);
  conn.socket.write(encodeMessage({ type: "attach", id, root: dataRoot() }));
  let undo = (): void => {};
  let detached = false;
  try {
    for (;;) {
      const m = await conn.next();
      if (m === null) return detached ? "detached" : null;
      if (m.type === "accepted") {
        undo = io.onAccepted(
          (request) => conn.socket.write(encodeMessage(request)),
          () => {
            detached = true;
            conn.socket.end();
          },
        );
      } else if (m.type === "error") throw new ContainerError(m.message, m.code);
      else if (m.type === "output") io.output(m.stream, Buffer.from(m.data, "base64"));
      else if (m.type === "exit") {
        conn.socket.end();
        return m.code;
      }
    }
  } finally {
    undo();
  }
}
