// Layers of a pull or a push shared between the main thread and a Worker (layer-worker.ts),
// so that two layers are downloaded, decompressed, hashed and written to disk (or read
// back, gzipped and uploaded) on two cores. Most
// of a layer's cost is on the thread that runs it (tar parsing, hashing, and the system
// calls that create each file), so whole layers move, never chunks: a chunk handed to
// another thread is a copy and a message each. A layer goes to whichever side has fewer
// bytes outstanding. The main thread takes part, so one core loses nothing.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import type { Credentials } from "./auth";
import { pullLayer, type ByteCount } from "./layer";
import { uploadLayer, type LayerUpload } from "./layer-upload";
import { Cancelled } from "./parallel";
import { NotFound, RegistryError, type Registry } from "./registry";
import type { ImageStore } from "./store";
import type { Descriptor } from "./types";
import type { UnpackStats } from "./unpack";
import type { Pushed } from "./upload";

export type LayerJob = {
  id: number;
  root: string;
  registry: { domain: string; tlsVerify?: boolean; credentials: Credentials | null };
  repo: string;
} & ({ kind: "pull"; desc: Descriptor; diffId: string; chainId: string } | { kind: "push"; layer: LayerUpload });

/** What the pool sends the Worker: a layer to work on, or word that the one with `id` is no longer wanted. */
export type WorkerRequest = LayerJob | { kind: "cancel"; id: number };

export type WorkerReply =
  | { id: number; kind: "bytes"; bytes: number }
  | { id: number; kind: "retry"; why: string }
  | { id: number; kind: "say"; message: string }
  | { id: number; kind: "done"; result: UnpackStats | Pushed }
  | { id: number; kind: "error"; type: string; message: string };

interface Pending {
  onBytes: ByteCount;
  onRetry: (why: string) => void;
  resolve: (result: never) => void;
  reject: (e: Error) => void;
}

function revive(type: string, message: string): Error {
  if (type === "Cancelled") return new Cancelled();
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

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

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

  /** Like pullLayer, on whichever thread has less to do; `signal` stops it (Cancelled). */
  pull(repo: string, desc: Descriptor, diffId: string, chainId: string, onRetry: (why: string) => void, onBytes: ByteCount, signal: AbortSignal): Promise<UnpackStats> {
    return this.run<UnpackStats>(desc.size, { repo, kind: "pull", desc, diffId, chainId }, onRetry, onBytes, signal, () =>
      pullLayer(this.store, this.registry, repo, desc, diffId, chainId, onRetry, onBytes, signal),
    );
  }

  /** Like uploadLayer (gzip and upload a stored layer), on whichever thread has less to do. */
  upload(repo: string, layer: LayerUpload, onRetry: (why: string) => void, onBytes: ByteCount, signal: AbortSignal): Promise<Pushed> {
    return this.run<Pushed>(layer.tarSize, { repo, kind: "push", layer }, onRetry, onBytes, signal, () => uploadLayer(this.store, this.registry, repo, layer, onBytes, onRetry, signal));
  }

  /** `here` on this thread, or `job` in the Worker, by the bytes each side has outstanding. */
  private async run<T>(size: number, job: DistributiveOmit<LayerJob, "id" | "root" | "registry">, onRetry: (why: string) => void, onBytes: ByteCount, signal: AbortSignal, here: () => Promise<T>): Promise<T> {
    cores ??= availableParallelism();
    if (cores < 2 || this.workerLoad > this.mainLoad) {
      this.mainLoad += size;
      try {
        return await here();
      } finally {
        this.mainLoad -= size;
      }
    }
    this.workerLoad += size;
    try {
      const id = this.nextId++;
      // the Worker ends the job at its next chunk and answers with Cancelled
      const cancel = () => this.worker?.postMessage({ kind: "cancel", id } satisfies WorkerRequest);
      signal.addEventListener("abort", cancel, { once: true });
      try {
        return await new Promise<T>((resolve, reject) => {
          this.pending.set(id, { onBytes, onRetry, resolve: resolve as (r: never) => void, reject });
          this.start().postMessage({ ...job, id, root: this.store.root, registry: this.target } as LayerJob);
        });
      } finally {
        signal.removeEventListener("abort", cancel);
      }
    } finally {
      this.workerLoad -= size;
    }
  }

  /** Starts the Worker ahead of its first layer (when there is a second core for it). */
  warm(): void {
    cores ??= availableParallelism();
    if (cores >= 2) this.start();
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
          return p.resolve(r.result as never);
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
