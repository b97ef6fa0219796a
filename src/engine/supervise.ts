// One detached container under the supervisor (./supervisor.ts): runs it, copies its
// output into its log, records its exit code and time, restarts it per --restart, and
// applies --rm. Everything here is per container and event-driven: two pipes (or the
// terminal's master) read by the one event loop, a log writer, a record on disk. No
// timer polls; the only timers are a restart's back-off and the 2 s bound on draining.
import { rmSync, writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { processRef } from "../runtime/procfs";
import { copyTerminal, type DetachedTerminal } from "../runtime/terminal";
import { trace } from "../runtime/trace";
import { warn } from "../runtime/warn";
import { DRAIN_MS } from "../runtime/run"; // how long the last output may take to arrive once the container is gone
import { close, pipe, setNonBlocking } from "../sys";
import { readDetached, updateDetached, withEngineLock, type DetachedRecord } from "./detached";
import { LogWriter, logPath, type LogEntry } from "./logs";
import type { SupervisorReport } from "./supervisor-messages";
import { sendExit, sendOutput, setInput } from "./attach-hub";
import { containerDir } from "./paths";
import { restartDelayMs, shouldRestart } from "./restart";
import { runContainer, type DetachedIo } from "./run";
import { detachedRunRequest } from "./detached-run";
import { adoptedIo, keepAdopted } from "./adopt";


/** Copies one pipe into the log until every writer closed it, then closes our read end. */
async function pump(id: string, fd: number, stream: LogEntry["stream"], writer: LogWriter): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of Bun.file(fd).stream()) {
      sendOutput(id, stream, chunk);
      writer.write(stream, decoder.decode(chunk, { stream: true }));
      // A pipe that always has data resolves each read at once: without a turn of the
      // event loop here, a flooding container starves every other start and client.
      await new Promise((done) => setImmediate(done));
    }
  } catch {
    // a broken pipe, or a log that cannot be written (removed with rm -f): the end
  }
  writer.flush(stream);
  close(fd); // Bun's stream reads a copy: the descriptor we made is ours to close
}

/** Writes what the pipe takes now; the rest is dropped (the container is not reading). */
function writeSome(fd: number, data: Uint8Array): void {
  try {
    writeSync(fd, data);
  } catch {
    // EAGAIN: its pipe is full; EPIPE: it closed its stdin
  }
}

function removeContainer(id: string): void {
  withEngineLock(() => rmSync(containerDir(id), { recursive: true, force: true }));
}

/** One run of the container; its exit status (125 and an error when it could not run). */
async function runOnce(rec: DetachedRecord, io: DetachedIo, onStarted: () => void): Promise<{ code: number; error?: string; oom: boolean }> {
  try {
    const outcome = await runContainer({
      ...detachedRunRequest(rec, io),
      onStarted: (init) => {
        updateDetached(rec.id, (r) => {
          r.status = "running";
          r.pid = init;
          r.startedAt = new Date().toISOString();
          delete r.error;
        });
        onStarted();
      },
    });
    return { code: outcome.exitCode, oom: outcome.oomKills > 0 };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { code: err instanceof ContainerError ? err.exitCode : 125, error: err.message, oom: false };
  }
}

/** The adopted first run (./adopt.ts), its result as runOnce's. */
async function adoptOnce(rec: DetachedRecord, master: number | null, io: DetachedIo): Promise<{ code: number; error?: string; oom: boolean }> {
  try {
    return await keepAdopted(rec, master, io.console, warn); // warnings go where a run's do here: stderr
  } catch (e) {
    return { code: 125, error: (e as Error).message, oom: false };
  }
}

/**
 * Supervises the recorded container `id` until it exited for good. `report` is told
 * "started" once its process runs, or "error" when it never did.
 */
export async function superviseContainer(id: string, report: (r: SupervisorReport) => void, adopted = false): Promise<void> {
  supervised.add(id);
  let code = -1;
  try {
    code = await supervise(id, report, adopted);
  } finally {
    supervised.delete(id);
    sendExit(id, code);
  }
}

/** The containers this supervisor keeps now: the ones a client may attach to. */
export const supervised = new Set<string>();

/**
 * superviseContainer's work; the last exit code (125 when it never ran). `adopted`: its
 * first run was started by `run -d` and is ours already (./adopt.ts), with its pipes.
 */
async function supervise(id: string, report: (r: SupervisorReport) => void, adopted: boolean): Promise<number> {
  trace(`supervisor: ${id.slice(0, 12)} accepted`);
  const first = updateDetached(id, (r) => {
    r.monitor = processRef(process.pid)!;
  });
  if (!first) {
    report({ type: "error", message: `container ${id} has no record`, code: 125 });
    return 125;
  }
  // The container's stdout and stderr are pipes of its own; with -t, its terminal is
  // copied to the stdout entries. Our write ends stay open across restarts.
  const writer = new LogWriter(logPath(containerDir(id)), first.log);
  const given = adopted ? adoptedIo(first) : null;
  const [outR, outW] = given?.stdout ?? pipe();
  const [errR, errW] = given?.stderr ?? pipe();
  const drained = Promise.all([pump(id, outR, "stdout", writer), pump(id, errR, "stderr", writer)]);
  const decoder = new TextDecoder();
  // -i: a stdin pipe whose write end we keep (non-blocking: input a container does not
  // read is dropped, never waited for), fed by attached clients. Without -i: /dev/null.
  const stdin = given ? given.stdin : first.request.interactive === true ? pipe() : null;
  if (stdin) setNonBlocking(stdin[1]);
  let terminal: DetachedTerminal | null = null;
  const io: DetachedIo = {
    stdout: outW,
    stderr: errW,
    ...(stdin ? { stdin: stdin[0] } : {}),
    console: (master) =>
      (terminal = copyTerminal(master, (chunk) => {
        sendOutput(id, "stdout", chunk);
        try {
          writer.write("stdout", decoder.decode(chunk, { stream: true }));
        } catch {
          // the log went with the container (rm -f): the output has nowhere to go
        }
      })),
  };
  setInput(id, {
    write(data) {
      if (first.request.interactive !== true) return;
      if (terminal) terminal.write(data);
      else if (stdin) writeSome(stdin[1], data);
    },
    resize: (size) => terminal?.resize(size),
  });

  let started = adopted;
  let code = 125;
  let rec: DetachedRecord | null = first;
  while (rec) {
    const result = given && rec === first ? await adoptOnce(first, given.master, io) : await runOnce(rec, io, () => {
      trace(`supervisor: ${id.slice(0, 12)} started`);
      if (started) return;
      started = true;
      report({ type: "started", id });
    });
    if (!started) {
      // Never ran: the caller reports the error, once we are done with it. A new container
      // leaves nothing behind (gone before `run -d` returns); one that ran before (`mycr
      // start` again) stays, exited, with the reason.
      const message = result.error ?? "the container exited during setup";
      await finish(id, [outW, errW, ...(stdin ?? [])], drained, writer);
      if (first.startedAt === undefined) removeContainer(id);
      else {
        updateDetached(id, (r) => {
          r.status = "exited";
          r.error = message;
          r.finishedAt = new Date().toISOString();
        });
      }
      report({ type: "error", message, code: result.code });
      return result.code;
    }
    let again = false;
    code = result.code;
    rec = updateDetached(id, (r) => {
      r.status = "exited";
      r.exitCode = result.code;
      r.finishedAt = new Date().toISOString();
      delete r.pid;
      if (result.error) r.error = result.error;
      if (result.oom) r.error = "out of memory";
      again = !r.stopRequested && result.error === undefined && shouldRestart(r.restart, result.code, r.restartCount);
      if (again) r.status = "restarting";
    });
    if (!rec || !again) break;
    await Bun.sleep(restartDelayMs(rec.restartCount));
    // A stop or rm during the pause wins over the restart.
    rec = updateDetached(id, (r) => {
      if (r.stopRequested) r.status = "exited";
      else r.restartCount++;
    });
    if (!rec || rec.status === "exited") break;
  }
  await finish(id, [outW, errW, ...(stdin ?? [])], drained, writer);
  if (readDetached(id)?.autoRemove) removeContainer(id);
  return code;
}

/** Lets the log drain (our write ends go; the container's went with it), then lets go of the record. */
async function finish(id: string, writeEnds: number[], drained: Promise<unknown>, writer: LogWriter): Promise<void> {
  for (const fd of writeEnds) close(fd);
  await Promise.race([drained, Bun.sleep(DRAIN_MS)]);
  try {
    writer.close();
  } catch {
    // the log went with the container (rm -f)
  }
  // Not ours any more: `start` may run it again, `rm` need not wait for us.
  updateDetached(id, (r) => {
    delete r.monitor;
  });
}
