// The second core of a pull or a push: a Worker that runs whole layer jobs
// (./layer-jobs.ts) for the pool in layer-pool.ts. build.ts makes this file a second entry
// point of the compiled binary (a compiled executable runs only Workers built in), and it
// is kept to this shell on purpose: while it imported the jobs' modules statically, every
// mycr process (`--version` included) paid ~3 ms for them before `main`, in the compiled
// binary only (measured; why is not established: docs/performance.md, "The Worker's entry
// point"). The jobs' code is a chunk imported when the Worker starts; messages that come
// meanwhile wait for it, in order.
import type { WorkerRequest } from "./layer-pool";

declare const self: Worker;

const jobs = import("./layer-jobs");
self.onmessage = async (event: MessageEvent<WorkerRequest>) => (await jobs).handleMessage(event);
