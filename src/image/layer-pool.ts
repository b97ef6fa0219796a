// Layers of a pull shared between the main thread and a Worker (layer-worker.ts), so that
// two layers are downloaded, decompressed, hashed and written to disk on two cores. Most
// of a layer's cost is on the thread that runs it (tar parsing, hashing, and the system
// calls that create each file), so whole layers move, never chunks: a chunk handed to
// another thread is a copy and a message each. A layer goes to whichever side has fewer
// compressed bytes outstanding. The main thread takes part, so one core loses nothing.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import type { Credentials } from "./auth";
import { pullLayer, type ByteCount } from "./layer";
import { NotFound, RegistryError, type Registry } from "./registry";
import type { ImageStore } from "./store";
import type { Descriptor } from "./types";
import type { UnpackStats } from "./unpack";

export interface LayerJob {
  id: number;
  root: string;
  registry: { domain: string; tlsVerify?: boolean; credentials: Credentials | null };
  repo: string;
  desc: Descriptor;
  diffId: string;
  chainId: string;
}

export type WorkerReply =
  | { id: number; kind: "bytes"; bytes: number }
  | { id: number; kind: "retry"; why: string }
  | { id: number; kind: "say"; message: string }
  | { id: number; kind: "done"; stats: UnpackStats }
  | { id: number; kind: "error"; type: string; message: string };

interface Pending {
  onBytes: ByteCount;
  onRetry: (why: string) => void;
  resolve: (stats: UnpackStats) => void;
  reject: (e: Error) => void;
  size: number;
}

function revive(type: string, message: string): Error {
  if (type === "NotFound") return new NotFound(message);
  if (type === "RegistryError") return new RegistryError(message);
  if (type === "ContainerError") return new ContainerError(message);
  return new Error(message);
}

/**
 * The Worker's code: inside the compiled binary (build.ts lists it as a second entry
 * point, kept under src/'s layout), else the source file. Never a path relative to the
 * working directory, which a compiled Worker would also look in.
 */
function workerEntry(): string {
  if (process.argv[1]?.startsWith("/$bunfs/")) return "/$bunfs/root/image/layer-worker.js";
  return join(import.meta.dir, "layer-worker.ts");
}

/** Asked once, when a pull first needs it: Bun reads the CPU list each time. */
let cores: number | undefined;

export class LayerPool {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Compressed bytes outstanding on each side. */
  private mainLoad = 0;
  private workerLoad = 0;

  constructor(
    private readonly store: ImageStore,
    private readonly registry: Registry,
    private readonly target: LayerJob["registry"],
    private readonly say: (message: string) => void,
  ) {}

  /** Like pullLayer, on whichever thread has less to do. */
  async pull(repo: string, desc: Descriptor, diffId: string, chainId: string, onRetry: (why: string) => void, onBytes: ByteCount): Promise<UnpackStats> {
    cores ??= availableParallelism();
    if (cores < 2 || this.workerLoad > this.mainLoad) {
      this.mainLoad += desc.size;
      try {
        return await pullLayer(this.store, this.registry, repo, desc, diffId, chainId, onRetry, onBytes);
      } finally {
        this.mainLoad -= desc.size;
      }
    }
    this.workerLoad += desc.size;
    try {
      return await new Promise<UnpackStats>((resolve, reject) => {
        const id = this.nextId++;
        this.pending.set(id, { onBytes, onRetry, resolve, reject, size: desc.size });
        const job: LayerJob = { id, root: this.store.root, registry: this.target, repo, desc, diffId, chainId };
        this.start().postMessage(job);
      });
    } finally {
      this.workerLoad -= desc.size;
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerEntry());
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const r = event.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      switch (r.kind) {
        case "bytes":
          return p.onBytes(r.bytes);
        case "retry":
          return p.onRetry(r.why);
        case "say":
          return this.say(r.message);
        case "done":
          this.pending.delete(r.id);
          return p.resolve(r.stats);
        case "error":
          this.pending.delete(r.id);
          return p.reject(revive(r.type, r.message));
      }
    };
    worker.onerror = (event) => {
      for (const p of this.pending.values()) p.reject(new ContainerError(`layer worker: ${event.message}`));
      this.pending.clear();
    };
    this.worker = worker;
    return worker;
  }

  /** Ends the Worker (a pull's last step, whether it succeeded or not). */
  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }
}
