// Create and start in one go, in the foreground: the container's stdio is ours,
// our signals are its signals, its exit status is ours.
import { close } from "../sys";
import { initFailure, launch, type LaunchOptions } from "./launch";
import { SIGNALS } from "../sys";
import { exitStatus, forwardSignals, type SignalForwarder } from "./signals";
import { trace } from "./trace";
import { attachTerminal, type TerminalSession } from "./terminal";

/** Signals that end a container still being started, instead of being delivered late. */
const ABORTING = new Set(["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"]);

export interface ForegroundOptions extends Omit<LaunchOptions, "startImmediately"> {
  /** Installed by the caller before it created anything, so no signal can strand it. */
  signals?: SignalForwarder;
  /** With process.terminal: copy our stdin into the container's terminal (-i). */
  attachStdin?: boolean;
}

/** How long the last output of a container may take to arrive after it exited. */
const DRAIN_MS = 2000;

/** Runs a container to completion and returns its exit status. The state entry is removed before returning. */
export async function runForeground(opts: ForegroundOptions): Promise<number> {
  const signals = opts.signals ?? forwardSignals();
  try {
    const launched = await launch({ ...opts, startImmediately: true });
    const { process: child, record } = launched;
    let session: TerminalSession | null = null;
    try {
      // init closes its end on a successful execve; a message means exec failed.
      const after = launched.reader.next();
      if (after) throw initFailure(after);
      const early = signals.received.find((s) => ABORTING.has(s));
      if (early) return 128 + SIGNALS[early]!;
      record.started = true;
      opts.store.save(record);
      if (launched.console !== undefined) {
        session = attachTerminal(launched.console, { stdin: opts.attachStdin ?? false });
      }
      signals.attach(child.pid);
      await child.exited;
      trace("run: container exited");
      if (session) await Promise.race([session.drained, Bun.sleep(DRAIN_MS)]);
      return exitStatus(child.exitCode, child.signalCode);
    } finally {
      // The user's terminal first: whatever else fails, it must be usable again.
      if (session) session.close();
      else if (launched.console !== undefined) close(launched.console);
      child.kill(9);
      await child.exited;
      close(launched.sync);
      opts.store.remove(record.id);
    }
  } finally {
    if (!opts.signals) signals.dispose();
  }
}
