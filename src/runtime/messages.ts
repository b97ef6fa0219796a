// Every message that passes over the sync socket between the runtime (parent) and
// init (the container's PID 1 before execve), declared once. Newline-delimited JSON;
// both sides read synchronously: setup is a strict back-and-forth.
import { readSync, writeSync } from "node:fs";
import type { Spec } from "../spec/types";

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
  /** Index in spec.mounts -> the fd (in init) of the idmapped mount the runtime made for it. */
  idmappedMounts?: Record<string, number>;
  /** A mount namespace given by path (linux.namespaces): the fd init joins it by. */
  mountNamespaceFd?: number;
  /** exec: a new process in an existing container, instead of a new container. */
  exec?: { mountNamespaceFd: number; detached: boolean };
}

export type ParentMessage = { type: "config"; config: InitConfig };

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

/** Reads newline-delimited messages from a blocking fd; null at EOF. */
export class MessageReader<T extends Message> {
  private pending = "";
  constructor(private readonly fd: number) {}

  next(): T | null {
    const chunk = Buffer.alloc(65536);
    for (;;) {
      const nl = this.pending.indexOf("\n");
      if (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return JSON.parse(line) as T;
      }
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
}
