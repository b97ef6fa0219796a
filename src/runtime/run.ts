// Create and start in one go, in the foreground: the container's stdio is ours,
// our signals are its signals, its exit status is ours.
import { trace } from "./trace";
import { close } from "../sys";
import { initFailure, launch, type LaunchOptions } from "./launch";
import { exitStatus, forwardSignals } from "./signals";

export interface RunResult {
  exitCode: number;
}

/** Runs a container to completion. The state entry is removed before returning. */
export async function runForeground(opts: Omit<LaunchOptions, "startImmediately">): Promise<RunResult> {
  const signals = forwardSignals();
  try {
    const launched = launch({ ...opts, startImmediately: true });
    const { process: child, record } = launched;
    try {
      // init closes its end on a successful execve; a message means exec failed.
      const after = launched.reader.next();
      if (after) throw initFailure(after);
      record.started = true;
      opts.store.save(record);
      signals.attach(child.pid);
      await child.exited;
      trace("run: container exited");
      return { exitCode: exitStatus(child.exitCode, child.signalCode) };
    } finally {
      child.kill(9);
      await child.exited;
      close(launched.sync);
      opts.store.remove(record.id);
    }
  } finally {
    signals.dispose();
  }
}
