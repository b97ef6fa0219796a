// The client of a served run (docs/run.md, "Runs served by the supervisor"): a foreground
// `run` on a host where the supervisor runs asks it to run the container, so that neither
// the CLI nor the start's code has to load and run cold in this process. The supervisor
// takes what it needs from this process itself (its words, environment, directory and
// stdio: ./served-run-peer.ts), or declines; then this process runs the container as
// always. Loaded before any other module, and imports only what imports nothing.
import type { Socket } from "bun";
import { FORWARDED_SIGNALS } from "../runtime/forwarded-signals";
import { trace } from "../runtime/trace";
import { dataRoot, supervisorSocket } from "./data-root";
import { MessageLines, encodeMessage } from "./message-lines";
import type { ServedRunReport, ServedRunRequest, ServedRunSignal } from "./supervisor-messages";

/**
 * The exit status of `mycr run ARGS...` as the supervisor ran it; null when none serves
 * it here (no supervisor, or it declined before it took the run): run it yourself.
 */
export async function runServed(argv: string[]): Promise<number | null> {
  const root = dataRoot();
  const lines = new MessageLines<ServedRunReport>();
  let accepted = false;
  let received: string[] = [];
  const handlers: (readonly [string, () => void])[] = [];
  /** Stops passing signals on; one that came meanwhile was meant for this process: it gets it. */
  const stopForwarding = (): void => {
    for (const [name, handler] of handlers.splice(0)) process.off(name, handler);
    const first = received[0];
    received = [];
    if (first !== undefined) process.kill(process.pid, first);
  };
  let settle: (report: ServedRunReport | null) => void = () => {};
  const outcome = new Promise<ServedRunReport | null>((resolve) => (settle = resolve));
  let socket: Socket<undefined>;
  try {
    socket = await Bun.connect({
      unix: supervisorSocket(root),
      socket: {
        data: (_s, chunk) => {
          for (const report of lines.push(chunk)) {
            if (report.type !== "accepted") settle(report);
            else {
              accepted = true;
              // a detached container's start goes on without us: our signals are ours again
              if (!report.foreground) stopForwarding();
            }
          }
        },
        close: () => settle(null),
        error: () => settle(null),
      },
    });
  } catch {
    return null; // no supervisor (ENOENT, ECONNREFUSED, EACCES): the usual way
  }
  trace("served: connected");
  // Caught from now on: passed on to a foreground container, as a run in this process would.
  for (const name of FORWARDED_SIGNALS) {
    const handler = (): void => {
      received.push(name);
      socket.write(encodeMessage({ type: "signal", name } satisfies ServedRunSignal));
    };
    process.on(name, handler);
    handlers.push([name, handler]);
  }
  socket.write(encodeMessage({ type: "run", root, argv } satisfies ServedRunRequest));
  const report = await outcome;
  trace(`served: ${report?.type ?? "closed"}${report?.type === "declined" ? ` (${report.reason})` : ""}`);
  if (report?.type === "exit") return report.code;
  socket.end();
  if (accepted) {
    // It took the run and went away (killed): a foreground container went with it.
    process.stderr.write("mycr: the supervisor exited before it reported the end of the run\n");
    return 125;
  }
  // Declined (or an exiting supervisor): a signal that came meanwhile was meant to stop the run.
  stopForwarding();
  return null;
}
