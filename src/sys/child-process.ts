// A child we started ourselves (spawn-namespaced.ts), watched the way Bun watches the
// children of Bun.spawn: `exited` resolves when it ends. SIGCHLD wakes us; each watched
// pid is then reaped by its own pid (never waitpid(-1): Bun's own children are Bun's).
import { reapChild } from "./process";
import { libc } from "./libc";

export interface WatchedChild {
  readonly pid: number;
  /** Resolves to the exit code, or 128+N after signal N. */
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly signalCode: number | null;
  kill(signal?: number): void;
  /** Stop keeping this process alive for it (the child outlives us). */
  unref(): void;
}

const watched = new Map<number, (status: number) => void>();
/** Keeps the event loop alive while a watched child runs, and catches a missed SIGCHLD. */
let keepAlive: ReturnType<typeof setInterval> | null = null;

function onChildSignal(): void {
  for (const [pid, done] of watched) {
    const r = reapChild(pid);
    if (r) done(r.status);
  }
}

function update(): void {
  if (watched.size === 0 && keepAlive) {
    process.off("SIGCHLD", onChildSignal);
    clearInterval(keepAlive);
    keepAlive = null;
  } else if (watched.size > 0 && !keepAlive) {
    process.on("SIGCHLD", onChildSignal);
    keepAlive = setInterval(onChildSignal, 1000);
  }
}

export function watchChild(pid: number): WatchedChild {
  let exitCode: number | null = null;
  let signalCode: number | null = null;
  let resolve!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolve = r));
  watched.set(pid, (status) => {
    watched.delete(pid);
    update();
    const signal = status & 0x7f;
    if (signal === 0) exitCode = (status >> 8) & 0xff;
    else signalCode = signal;
    resolve(signal === 0 ? exitCode! : 128 + signal);
  });
  update();
  onChildSignal(); // it may have ended before we listened
  return {
    pid,
    exited,
    get exitCode() {
      return exitCode;
    },
    get signalCode() {
      return signalCode;
    },
    kill(signal = 15) {
      if (exitCode === null && signalCode === null) libc.kill(pid, signal);
    },
    unref() {
      watched.delete(pid);
      update();
    },
  };
}
