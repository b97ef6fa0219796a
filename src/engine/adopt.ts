// The first `run -d` on a root with no supervisor (docs/detached.md, "The first run -d"):
// instead of starting a supervisor and waiting for it to load and start the container
// (two Bun start-ups and a cold start in a row), the client starts the container itself,
// as a foreground run does, with a keeper as init's parent (sys/spawn-namespaced.ts).
// Once the container runs, the client tells the keeper to keep it: the keeper execs
// `mycr supervisor` (MYCR_SUPERVISOR=adopt:ID) with the fds below, so the supervisor is init's parent
// from its first instruction, and takes the container over (keepAdopted): its log, its
// exit, its cleanup, --rm and --restart. The client exits meanwhile.
//
// The locks make it one supervisor per root, as for a started one: the client takes the
// lifetime lock (free: no supervisor runs) and the start lock (other clients wait for
// the socket, as while one is started), and the keeper, sharing their open files, hands
// both to the supervisor, which lets go of the start lock once it listens.
import { openSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { NotKeepable } from "../runtime/launch";
import { processRef } from "../runtime/procfs";
import { DRAIN_MS, removeStopped } from "../runtime/run";
import type { TerminalSession } from "../runtime/terminal";
import { exitStatus } from "../runtime/signals";
import { StateStore } from "../runtime/state";
import { selfCommand } from "../runtime/self";
import { trace } from "../runtime/trace";
import { openCgroup } from "../cgroups";
import { close, pipe, tryLock, watchChild } from "../sys";
import { updateDetached, type DetachedRecord } from "./detached";
import { detachedRunRequest } from "./detached-run";
import { readRecord, updateRecord } from "./record";
import { containerDir } from "./paths";
import { releaseRun, runContainer } from "./run";
import { SUPERVISOR_MODE, supervisorPaths } from "./supervisor-messages";
import { supervisorLogFd } from "./supervisor-spawn";

/** The supervisor's fds from its keeper, in this order from 3: then -i's pipe, then -t's master. */
export const ADOPTED_FDS = { lock: 3, startLock: 4, stdoutRead: 5, stdoutWrite: 6, stderrRead: 7, stderrWrite: 8 } as const;

/** The pipes of an adopted container (and of its restarts), and its terminal's master. */
export interface AdoptedIo {
  stdout: [number, number];
  stderr: [number, number];
  stdin: [number, number] | null;
  master: number | null;
}

/** The pipes and master at the numbers the supervisor's keeper placed them. */
export function adoptedIo(rec: DetachedRecord): AdoptedIo {
  let next = ADOPTED_FDS.stderrWrite + 1;
  const stdin: [number, number] | null = rec.request.interactive === true ? [next++, next++] : null;
  return {
    stdout: [ADOPTED_FDS.stdoutRead, ADOPTED_FDS.stdoutWrite],
    stderr: [ADOPTED_FDS.stderrRead, ADOPTED_FDS.stderrWrite],
    stdin,
    master: rec.request.tty === true ? next : null,
  };
}

/**
 * Flags the native init is known not to cover (runtime/native-plan.ts nativeRefusal):
 * known up front, they skip the start that launch() would refuse (NotKeepable) after
 * the container's files were made. Only a shortcut: launch() decides.
 */
function needsBunInit(request: DetachedRecord["request"]): boolean {
  // -u, even numeric, is looked up in the container's /etc/passwd and /etc/group (its groups)
  return request.init === true || request.userns === "auto" || request.user !== undefined;
}

/**
 * Starts the recorded detached container here and hands it to a supervisor made from
 * its keeper. False, with nothing done, when it cannot be: a supervisor runs or is being
 * started, the caller is not root, or the native init does not cover the container;
 * the caller then hands the container to the supervisor the usual way. A failure to
 * start it throws (everything it made removed but the record, as with the usual way).
 */
export async function startForSupervisor(rec: DetachedRecord): Promise<boolean> {
  if (process.geteuid?.() !== 0 || process.env.MYCR_INIT === "bun" || process.env.MYCR_ADOPT === "0") return false;
  if (needsBunInit(rec.request)) return false;
  const paths = supervisorPaths();
  const startLock = tryLock(paths.startLock);
  if (startLock === null) return false;
  const lock = tryLock(paths.lock);
  if (lock === null) {
    close(startLock);
    return false;
  }
  trace("adopt: locks taken");
  // Closed here in every case, never unlocked: after keep() the keeper's copies hold them.
  const ours: number[] = [startLock, lock];
  try {
    const made = (fds: [number, number]): [number, number] => (ours.push(...fds), fds);
    const stdout = made(pipe());
    const stderr = made(pipe());
    const stdin = rec.request.interactive === true ? made(pipe()) : null;
    const devNull = openSync("/dev/null", "r+");
    ours.push(devNull);
    const errors = supervisorLogFd() ?? devNull;
    if (errors !== devNull) ours.push(errors);
    // The same command line as a started supervisor's (`ps`, pgrep); the id in its mode.
    const command = selfCommand("supervisor");
    await runContainer({
      ...detachedRunRequest(rec, { stdout: stdout[1], stderr: stderr[1], ...(stdin ? { stdin: stdin[0] } : {}), console: () => { throw new Error("a handed-over container's terminal is its supervisor's"); } }),
      keeper: { path: command[0]!, argv: command, env: Object.entries({ ...process.env, [SUPERVISOR_MODE]: `adopt:${rec.id}` }).map(([k, v]) => `${k}=${v}`) },
      handOver: (launched) => {
        const keeper = launched.keeper!;
        const monitor = processRef(keeper.pid)!;
        updateDetached(rec.id, (r) => {
          r.status = "running";
          r.pid = launched.record.init!;
          r.startedAt = new Date().toISOString();
          r.monitor = monitor;
          delete r.error;
        });
        // The engine's record names the process that keeps it (peers' /etc/hosts, `network rm`): not us.
        const engine = readRecord(containerDir(rec.id));
        if (engine) updateRecord({ ...engine, owner: monitor });
        // 0-2, then ADOPTED_FDS's order (adoptedIo reads them back)
        keeper.keep([devNull, devNull, errors, lock, startLock, stdout[0], stdout[1], stderr[0], stderr[1], ...(stdin ?? []), ...(launched.console !== undefined ? [launched.console] : [])]);
        trace("adopt: handed over");
      },
    });
    return true;
  } catch (e) {
    if (e instanceof NotKeepable) return false;
    throw e instanceof ContainerError ? e : new ContainerError((e as Error).message);
  } finally {
    for (const fd of ours) close(fd);
  }
}

/**
 * The supervisor's side: waits for the adopted container's init (our child since the
 * keeper's execve) to exit, copying its terminal with -t, then removes what the client's
 * run would have: its state and cgroup, its network, its root. Its exit status.
 */
export async function keepAdopted(rec: DetachedRecord, master: number | null, copyTerminal: (master: number) => TerminalSession, warn: (message: string) => void): Promise<{ code: number; oom: boolean }> {
  if (!rec.pid) throw new ContainerError(`container ${rec.id}: its record names no process to adopt`);
  const init = watchChild(rec.pid.pid);
  const session = master !== null ? copyTerminal(master) : null;
  await init.exited;
  trace(`supervisor: ${rec.id.slice(0, 12)} adopted container exited`);
  if (session) {
    await Promise.race([session.drained, Bun.sleep(DRAIN_MS)]);
    session.close();
  }
  const store = new StateStore(rec.stateRoot);
  const state = store.tryLoad(rec.id); // gone if `rm -f` came first
  let oom = false;
  if (state?.cgroup) {
    const cgroup = openCgroup(state.cgroup);
    oom = cgroup.oomKills() > 0;
    await removeStopped(store, state, cgroup, warn);
  }
  const record = readRecord(containerDir(rec.id)) ?? undefined;
  await releaseRun(rec.id, record, record?.network, { detached: true, keep: record?.keep ?? false, userNetwork: true, onNotice: warn });
  return { code: exitStatus(init.exitCode, init.signalCode), oom };
}
