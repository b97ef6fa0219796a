// A detached container's monitor: the mycr binary started again as `mycr monitor ID`
// in a session of its own. It is the container's parent (so it reaps PID 1 and init's
// parent-death signal ties the container to it), holds the log pipes, records the exit
// code and time, restarts per --restart, and applies --rm. Like conmon, it is small and
// there is one per container: no daemon.
import { closeSync, openSync, rmSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { processRef } from "../runtime/procfs";
import { StateStore } from "../runtime/state";
import { close, dup2, exitNow, pipe, setsid } from "../sys";
import { readDetached, updateDetached, withEngineLock, type DetachedRecord } from "./detached";
import { LogWriter, logPath, type LogEntry } from "./logs";
import { sendReport } from "./monitor-messages";
import { containerDir } from "./paths";
import { restartDelayMs, shouldRestart } from "./restart";
import { runContainer } from "./run";

/** Copies one pipe into the log until every writer (the container, us) closed it. */
async function pump(fd: number, stream: LogEntry["stream"], writer: LogWriter): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of Bun.file(fd).stream()) writer.write(stream, decoder.decode(chunk, { stream: true }));
  } catch {
    // a broken pipe ends the stream like end-of-file
  }
  writer.flush(stream);
}

function removeContainer(id: string): void {
  withEngineLock(() => rmSync(containerDir(id), { recursive: true, force: true }));
}

/** One run of the container; its exit status (125 and an error when it could not run). */
async function runOnce(rec: DetachedRecord, onStarted: () => void): Promise<{ code: number; error?: string; oom: boolean }> {
  try {
    const outcome = await runContainer({
      ...rec.request,
      id: rec.id,
      store: new StateStore(rec.stateRoot),
      detached: true,
      // Nobody is attached to a detached container's stdin: /dev/null, and with -t a
      // terminal that simply gets no input (so `run -dit sh` waits, as with docker).
      interactive: false,
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

export async function monitorMain(id: string): Promise<never> {
  setsid(); // the caller's terminal may close: no SIGHUP, no job control reaches us
  const first = readDetached(id);
  if (!first) {
    sendReport({ type: "error", message: `container ${id} has no record`, code: 125 });
    return exitNow(125);
  }
  updateDetached(id, (r) => {
    r.monitor = processRef(process.pid)!;
  });
  // Our stdout and stderr become the log pipes: the container inherits them, and so
  // does a terminal session (-t), which copies the terminal to our stdout.
  const writer = new LogWriter(logPath(containerDir(id)), first.log);
  const [outR, outW] = pipe();
  const [errR, errW] = pipe();
  dup2(outW, 1);
  dup2(errW, 2);
  close(outW);
  close(errW);
  const drained = Promise.all([pump(outR, "stdout", writer), pump(errR, "stderr", writer)]);

  let started = false;
  let rec: DetachedRecord | null = first;
  while (rec) {
    const result = await runOnce(rec, () => {
      if (started) return;
      started = true;
      sendReport({ type: "started", id });
      process.chdir("/"); // the caller's directory was needed for relative paths only
    });
    if (!started) {
      // Never ran: the caller reports the error. A new container leaves nothing behind;
      // one that ran before (`mycr start` again) stays, exited, with the reason.
      const message = result.error ?? "the container exited during setup";
      sendReport({ type: "error", message, code: result.code });
      if (first.startedAt === undefined) removeContainer(id);
      else {
        updateDetached(id, (r) => {
          r.status = "exited";
          r.error = message;
          r.finishedAt = new Date().toISOString();
          delete r.monitor;
        });
      }
      return exitNow(125);
    }
    let again = false;
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
  // Let the log drain: our copies of the write ends go, the container's went with it.
  closeStdio();
  await Promise.race([drained, Bun.sleep(2000)]);
  writer.close();
  if (readDetached(id)?.autoRemove) removeContainer(id);
  return exitNow(0);
}

/** Points fds 1 and 2 at /dev/null, dropping our hold on the log pipes. */
function closeStdio(): void {
  const fd = openSync("/dev/null", "w");
  dup2(fd, 1);
  dup2(fd, 2);
  closeSync(fd);
}
