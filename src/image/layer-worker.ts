// The second core of a pull or a push: a Worker that downloads, unpacks and commits whole
// layers (layer.ts pullLayer), or gzips and uploads them (layer-upload.ts uploadLayer) —
// the same code the main thread runs — for the pool in layer-pool.ts.
// One Registry per domain is kept for the Worker's life, so its token is fetched once.
import { ContainerError } from "../runtime/errors";
import { pullLayer } from "./layer";
import { uploadLayer } from "./layer-upload";
import type { WorkerReply, WorkerRequest } from "./layer-pool";
import { Cancelled } from "./parallel";
import { NotFound, Registry, RegistryError } from "./registry";
import { ImageStore } from "./store";

declare const self: Worker;

const registries = new Map<string, Registry>();
/** The jobs under way, to stop one when the pool says it is no longer wanted. */
const running = new Map<number, AbortController>();

function post(reply: WorkerReply): void {
  self.postMessage(reply);
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const job = event.data;
  if (job.kind === "cancel") return running.get(job.id)?.abort();
  const stop = new AbortController();
  running.set(job.id, stop);
  const key = JSON.stringify(job.registry);
  let registry = registries.get(key);
  if (!registry) {
    registry = new Registry(job.registry.domain, {
      tlsVerify: job.registry.tlsVerify,
      credentials: job.registry.credentials,
      onRetry: (what, why) => post({ id: job.id, kind: "say", message: `${what}: retrying (${why})` }),
    });
    registries.set(key, registry);
  }
  try {
    const store = new ImageStore(job.root);
    const onRetry = (why: string) => post({ id: job.id, kind: "retry", why });
    const onBytes = (bytes: number) => post({ id: job.id, kind: "bytes", bytes });
    const result =
      job.kind === "pull"
        ? await pullLayer(store, registry, job.repo, job.desc, job.diffId, job.chainId, onRetry, onBytes, stop.signal)
        : await uploadLayer(store, registry, job.repo, job.layer, onBytes, onRetry, stop.signal);
    post({ id: job.id, kind: "done", result });
  } catch (e) {
    const type = e instanceof Cancelled ? "Cancelled" : e instanceof NotFound ? "NotFound" : e instanceof RegistryError ? "RegistryError" : e instanceof ContainerError ? "ContainerError" : "Error";
    post({ id: job.id, kind: "error", type, message: (e as Error).message });
  } finally {
    running.delete(job.id);
  }
};
