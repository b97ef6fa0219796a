// Starting the supervisor (./supervisor.ts) for a client (./supervisor-client.ts): a
// `mycr supervisor` process given one end of a socket pair as STARTER_FD. On it the
// supervisor says "ready" (or why not); the client holds its end until it exits, so a
// supervisor that nobody came to sees the end of it and exits too. (The first `run -d`
// of a root, run by root, makes its supervisor another way: ./adopt.ts.)
import { closeSync, openSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { STARTER_FD, SUPERVISOR_MODE, readReadyLine, supervisorPaths } from "./supervisor-messages";

/** Starts `mycr supervisor` and returns its first line (null when it exited without one). */
async function launch(command: string[]): Promise<string | null> {
  const stderr = supervisorLogFd() ?? "ignore";
  const stdio: ["ignore", "ignore", "ignore" | number, "socket-fd"] = ["ignore", "ignore", stderr, "socket-fd"];
  let ours: number;
  try {
    const child = Bun.spawn(command, { stdio, env: { ...process.env, [SUPERVISOR_MODE]: "1" }, cwd: "/" });
    child.unref();
    // Close-on-exec, and never closed by us: it closes when this process exits.
    ours = child.stdio[STARTER_FD] as number;
  } finally {
    if (typeof stderr === "number") closeSync(stderr);
  }
  return readReadyLine(ours);
}

/** Under MYCR_TRACE the supervisor's stderr (its trace) is its log, after its errors: it has no terminal. */
export function supervisorLogFd(): number | null {
  if (!process.env.MYCR_TRACE) return null;
  try {
    return openSync(supervisorPaths().log, "a", 0o600);
  } catch {
    return null;
  }
}

/** Starts a supervisor (the caller holds the start lock) and waits until it listens, or says why it cannot. */
export async function spawnSupervisor(command: string[]): Promise<void> {
  const line = await launch(command);
  if (line !== "ready") throw new ContainerError(`mycr's supervisor did not start: ${line ?? "it exited"}`);
}
