// `start`: opens the exec FIFO, which lets the created container's init exec the process.
import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { O_CLOEXEC, O_NONBLOCK } from "../sys/constants";
import { ContainerError } from "./errors";
import { runHooks } from "./hooks";
import { EXEC_FIFO } from "./paths";
import { warn } from "./warn";
import { isAlive } from "./procfs";
import { containerStatus, type StateStore } from "./state";

export async function startContainer(store: StateStore, id: string): Promise<void> {
  const record = store.load(id);
  const status = containerStatus(record);
  if (status !== "created") throw new ContainerError(`cannot start container ${id}: it is ${status}`);
  const fifo = join(store.dir(id), EXEC_FIFO);
  // Non-blocking: a dead init must not hang us. Opening releases init's blocked open.
  const fd = openSync(fifo, O_NONBLOCK | O_CLOEXEC);
  try {
    const buf = Buffer.alloc(1);
    const wentOn = (): boolean => {
      try {
        return readSync(fd, buf, 0, 1, null) === 1;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        return false;
      }
    };
    const deadline = Date.now() + 10_000;
    // Init writes its byte some tens of microseconds after this open: read again at once
    // for up to 2 ms (start has nothing else to do; a timer's pause is 1 ms at best), then
    // each millisecond.
    const spinUntil = performance.now() + 2;
    for (;;) {
      if (wentOn()) break;
      if (performance.now() < spinUntil) continue;
      // A quick program may have run and ended since that read: its byte says it started.
      if (!isAlive(record.init)) {
        if (wentOn()) break;
        throw new ContainerError(`cannot start container ${id}: its init process died`);
      }
      if (Date.now() > deadline) throw new ContainerError(`cannot start container ${id}: init did not respond`);
      await Bun.sleep(1);
    }
  } finally {
    closeSync(fd);
  }
  // The fifo gone is what says the container started (StateStore.load); a record
  // made by an older mycr, without that, says it itself.
  rmSync(fifo, { force: true });
  if (!record.execFifo) {
    record.started = true;
    store.save(record);
  }
  for (const w of runHooks("poststart", record.spec, { id, pid: record.init!.pid, bundle: record.bundle, status: "running" })) warn(w);
}
