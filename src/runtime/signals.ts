// Signals sent to a foreground mycr are passed on to the container's PID 1, as
// docker's and podman's sig-proxy do. Installed before launch so that a Ctrl-C
// during setup is not lost; it is delivered once the container exists.
import { SIGNALS, kill } from "../sys";
import { FORWARDED_SIGNALS } from "./forwarded-signals";

export { FORWARDED_SIGNALS };

export interface SignalForwarder {
  /** Starts delivering to `pid`, beginning with anything that arrived before. */
  attach(pid: number): void;
  /** Signals received so far (used to kill a container that is still being set up). */
  readonly received: string[];
  dispose(): void;
}

export function forwardSignals(): SignalForwarder {
  const forwarder = signalsByMessage();
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = () => forwarder.deliver(name);
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    ...forwarder,
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
      forwarder.dispose();
    },
  };
}

/** A forwarder fed by hand: the supervisor passes on what a served `run`'s client was sent. */
export interface DeliveredSignals extends SignalForwarder {
  /** `name` arrived (a SIGNALS name; others are dropped). */
  deliver(name: string): void;
}

export function signalsByMessage(): DeliveredSignals {
  let target: number | null = null;
  let disposed = false;
  const received: string[] = [];
  return {
    received,
    deliver(name) {
      if (disposed || SIGNALS[name] === undefined) return;
      received.push(name);
      if (target !== null) kill(target, SIGNALS[name]);
    },
    attach(pid) {
      target = pid;
      for (const name of received) kill(pid, SIGNALS[name]!);
    },
    // the container is gone: its pid may be another process's soon
    dispose() {
      disposed = true;
      target = null;
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
