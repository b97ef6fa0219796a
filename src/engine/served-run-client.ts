// The client of a served run (docs/run.md, "Runs served by the supervisor"): a foreground
// `run` on a host where the supervisor runs asks it to run the container, so that neither
// the CLI nor the start's code has to load and run cold in this process. The supervisor
// takes what it needs from this process itself (its words, environment, directory and
// stdio: ./served-run-peer.ts), or declines; then this process runs the container as
// always. Loaded before any other module, and imports only what imports nothing.
import { FORWARDED_SIGNALS } from "../runtime/forwarded-signals";
import { trace } from "../runtime/trace";
import { dataRoot, supervisorSocket } from "./data-root";
import { connect, encodeMessage } from "./message-lines";
import type { ServedRunReport, ServedRunRequest, ServedRunSignal } from "./supervisor-messages";

/**
 * The exit status of `mycr run ARGS...` as the supervisor ran it; null when none serves
 * it here (no supervisor, or it declined before it took the run): run it yourself.
 */
export async function runServed(argv: string[]): Promise<number | null> {
  const root = dataRoot();
  const conn = await connect<ServedRunReport>(supervisorSocket(root));
  if (!conn) return null; // no supervisor: the usual way
  trace("served: connected");
  // Caught from now on: passed on to a foreground container, as a run in this process would.
  const received: string[] = [];
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = (): void => {
      received.push(name);
      conn.socket.write(encodeMessage({ type: "signal", name } satisfies ServedRunSignal));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  /** Stops passing signals on; one that came meanwhile was meant for this process: it gets it. */
  const stopForwarding = (): void => {
    for (const [name, handler] of handlers.splice(0)) process.off(name, handler);
    const first = received.splice(0)[0];
    if (first !== undefined) process.kill(process.pid, first);
  };
  conn.socket.write(encodeMessage({ type: "run", root, argv } satisfies ServedRunRequest));
  let accepted = false;
  let report = await conn.next();
  while (report?.type === "accepted") {
    accepted = true;
    // a detached container's start goes on without us: our signals are ours again
    if (!report.foreground) stopForwarding();
    report = await conn.next();
  }
  trace(`served: ${report?.type ?? "closed"}${report?.type === "declined" ? ` (${report.reason})` : ""}`);
  if (report?.type === "exit") return report.code;
  conn.socket.end();
  if (accepted) {
    // It took the run and went away (killed): a foreground container went with it.
    process.stderr.write("mycr: the supervisor exited before it reported the end of the run\n");
    return 125;
  }
  // Declined (or an exiting supervisor): a signal that came meanwhile was meant to stop the run.
  stopForwarding();
  return null;
}
