// Every message that passes over the sync socket between the runtime (parent) and
// init (the container's PID 1 before execve), declared once. Newline-delimited JSON;
// both sides read synchronously: setup is a strict back-and-forth.
import { readSync, writeSync } from "node:fs";
import type { Spec } from "../spec/types";
import { ContainerError } from "./errors";

/** What init must know to build the container; sent once, right after spawn. */
export interface InitConfig {
  id: string;
  spec: Spec;
  /** Absolute host path of the root filesystem (spec.root.path resolved against the bundle). */
  rootfs: string;
  /** Absolute bundle directory: relative bind sources are resolved against it. */
  bundle: string;
  /** Move the root instead of pivot_root (runc's --no-pivot). */
  noPivot: boolean;
  /** How many fds (from init-fd.ts's PRESERVED_FDS_BASE) become the process's 3, 4, ... */
  preserveFds?: number;
  /** Join a session keyring of the container's own (runc's default). */
  newKeyring?: boolean;
  /** Where compiled seccomp programs are kept between containers (see seccomp.ts). */
  seccompCacheDir?: string;
  /** init's pid as the host sees it, for the state hooks receive. */
  hostPid?: number;
  /** true: exec the process as soon as setup is done (run). false: wait for start (create). */
  startImmediately: boolean;
  /** create: (the fd init has of) the FIFO that `start` opens to let the process run. */
  execFifoFd?: number;
  /** create in a user namespace: (the fd init has of) the host's /proc, to reopen the FIFO through if it may not make a procfs. */
  hostProcFd?: number;
  /** Index in spec.mounts -> the fd (in init) of the idmapped mount the runtime made for it. */
  idmappedMounts?: Record<string, number>;
  /** A mount namespace given by path (linux.namespaces): the fd init joins it by. */
  mountNamespaceFd?: number;
  /** exec: a new process in an existing container, instead of a new container. */
  exec?: { mountNamespaceFd: number; detached: boolean };
}

/**
 * "start": a container started at once (foreground run) goes on to exec only when told,
 * so that limits the parent applies after "ready" (pids.max) bind its first program.
 */
export type ParentMessage = { type: "config"; config: InitConfig } | { type: "start" };

/** `code` is the exit status mycr reports: 125 setup failed, 126 not executable, 127 not found. */
export type InitMessage =
  | { type: "ready" }
  | { type: "error"; message: string; code: number; stack?: string };

type Message = ParentMessage | InitMessage;

export function sendMessage(fd: number, message: Message): void {
  const data = Buffer.from(JSON.stringify(message) + "\n");
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off);
}

function streamReader(fd: number) {
  return Bun.file(fd).stream().getReader();
}

/** Reads newline-delimited messages from a blocking fd; null at EOF. */
export class MessageReader<T extends Message> {
  private pending = "";
  private stream: ReturnType<typeof streamReader> | null = null;
  constructor(private readonly fd: number) {}

  /**
   * Like next(), but waits in the event loop instead of blocking the thread: a process
   * that starts many containers (the supervisor) goes on serving the others while one
   * init sets up. Once used, use it alone: the stream reads ahead.
   */
  async nextAsync(): Promise<T | null> {
    const stream = (this.stream ??= streamReader(this.fd));
    const decoder = new TextDecoder();
    for (;;) {
      const message = this.take();
      if (message) return message;
      let chunk;
      try {
        chunk = await stream.read();
      } catch {
        return null; // ECONNRESET: the other side is gone
      }
      if (chunk.done) return null;
      this.pending += decoder.decode(chunk.value, { stream: true });
    }
  }

  next(): T | null {
    const chunk = Buffer.alloc(65536);
    for (;;) {
      const message = this.take();
      if (message) return message;
      let n: number;
      try {
        n = readSync(this.fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ECONNRESET") return null;
        throw e;
      }
      if (n === 0) return null;
      this.pending += chunk.toString("utf8", 0, n);
    }
  }

  /** The first whole message of what was read, if there is one. */
  private take(): T | null {
    const nl = this.pending.indexOf("\n");
    if (nl < 0) return null;
    const line = this.pending.slice(0, nl);
    this.pending = this.pending.slice(nl + 1);
    return JSON.parse(line) as T;
  }
}

/** Turns an init error message into the exception the caller reports. */
export function initFailure(message: InitMessage | null): ContainerError {
  if (message?.type === "error") return new ContainerError(message.message, message.code, message.stack);
  return new ContainerError("container init exited during setup");
}
