// What a `run -d` (or `start`) and the supervisor say over the supervisor's socket: one
// JSON line each way per message. The client asks to start a recorded container; the
// supervisor answers "accepted" at once (from then on the container is its), then
// "started" once the container's process runs, or "error"; then it closes the connection.
import { join } from "node:path";
import { dataRoot, supervisorSocket } from "./data-root";

export { MessageLines, encodeMessage } from "./message-lines";

export type SupervisorRequest = {
  /** start: run the recorded container; attach: stream its output to this connection. */
  type: "start" | "attach";
  id: string;
  /** The client's MYCR_ROOT: a supervisor serves the records of one only. */
  root: string;
};

/** What an attached client sends after its attach request: what it typed, its window size. */
export type AttachRequest = { type: "input"; data: string } | { type: "resize"; rows: number; cols: number };

/** What an attached client is sent: the container's output as it comes, then its exit code. */
export type AttachReport = { type: "output"; stream: "stdout" | "stderr"; data: string } | { type: "exit"; code: number };

export type SupervisorReport = { type: "accepted" } | { type: "started"; id: string } | { type: "error"; message: string; code: number };

/**
 * A foreground `run` the client asks the supervisor to serve (./served-run-client.ts):
 * its words as Bun decoded them; the supervisor reads the exact bytes, the environment,
 * the directory and the stdio from the client's process (./served-run-peer.ts).
 */
export type ServedRunRequest = { type: "run"; root: string; argv: string[] };

/** What the client of a served run sends after its request: a signal it was sent. */
export type ServedRunSignal = { type: "signal"; name: string };

/**
 * "declined": run it yourself (why, for MYCR_TRACE); "accepted": the supervisor runs it
 * (in the foreground: the client's signals are the container's), its messages go to the
 * client's stderr; "exit": the run's exit status, then the end.
 */
export type ServedRunReport = { type: "declined"; reason: string } | { type: "accepted"; foreground: boolean } | { type: "exit"; code: number };

/** The supervisor's files: one supervisor per MYCR_ROOT, whose records it keeps. */
export function supervisorPaths(root = dataRoot()): { socket: string; lock: string; startLock: string; log: string } {
  return {
    socket: supervisorSocket(root),
    /** Held by the running supervisor for its whole life: one at a time. */
    lock: join(root, "supervisor.lock"),
    /** Held by a client while it finds or starts the supervisor: one starts it. */
    startLock: join(root, "supervisor-start.lock"),
    /** Errors that escaped a container's handling (the supervisor has no terminal). */
    log: join(root, "supervisor.log"),
  };
}

/**
 * The supervisor's end of a socket pair with the client that started it: the supervisor
 * writes its one line there ("ready", or why not); the client holds the other end until
 * it exits, so the end of the stream says the starter is gone.
 */
export const STARTER_FD = 3;

/**
 * The variable that makes `mycr supervisor` one, and how it was started: "1" by a client
 * holding the start lock (./supervisor-spawn.ts); "adopt:ID" made from the keeper of the
 * container ID the first `run -d` started (./adopt.ts).
 */
export const SUPERVISOR_MODE = "MYCR_SUPERVISOR";

/** The one line a starting supervisor writes to STARTER_FD; null when it exited without one. */
export async function readReadyLine(fd: number): Promise<string | null> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of Bun.file(fd).stream()) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0] || null;
}
