// Signals sent to a foreground mycr are passed on to the container's PID 1, as
// docker's and podman's sig-proxy do. Installed before launch so that a Ctrl-C
// during setup is not lost; it is delivered once the container exists.
import { SIGNALS, kill } from "../sys";

export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

export interface SignalForwarder {
  /** Starts delivering to `pid`, beginning with anything that arrived before. */
  attach(pid: number): void;
  /** Signals received so far (used to kill a container that is still being set up). */
  readonly received: string[];
  dispose(): void;
}

export function forwardSignals(): SignalForwarder {
  let target: number | null = null;
  const received: string[] = [];
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = () => {
      received.push(name);
      if (target !== null) kill(target, SIGNALS[name]!);
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    received,
    attach(pid) {
      target = pid;
      for (const name of received) kill(pid, SIGNALS[name]!);
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** A forwarder that listens to nothing: for a process that serves many containers. */
export function ignoreSignals(): SignalForwarder {
  return { received: [], attach() {}, dispose() {} };
}

/** The shell convention: the code itself, or 128+N for death by signal N. */
export function exitStatus(exitCode: number | null, signalCode: string | number | null): number {
  if (typeof signalCode === "number") return 128 + signalCode;
  if (signalCode) return 128 + (SIGNALS[signalCode] ?? 0);
  return exitCode ?? 125;
}
