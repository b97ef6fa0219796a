// `exec`: a new process in a running container's namespaces and cgroup. Like init it
// is a fresh mycr process; it joins the mount namespace itself (see init.ts).
import { closeSync, openSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { CLONE, close, inNamespaces, kill, socketPair, type NamespaceJoin } from "../sys";
import { openCgroup } from "../cgroups";
import type { Process } from "../spec/types";
import { ContainerError } from "./errors";
import { initFailure, type Stdio } from "./launch";
import { MessageReader, sendMessage, type InitMessage } from "./messages";
import { selfCommand } from "./self";
import { exitStatus, forwardSignals } from "./signals";
import { containerStatus, type StateStore } from "./state";

export interface ExecOptions {
  store: StateStore;
  id: string;
  process: Process;
  /** Return once the process runs (its pid in pidFile); its parent becomes our caller's subreaper. */
  detached: boolean;
  pidFile?: string;
  stdio?: Stdio;
}

const JOINED: Array<[number, string]> = [
  [CLONE.NEWIPC, "ipc"],
  [CLONE.NEWUTS, "uts"],
  [CLONE.NEWNET, "net"],
  [CLONE.NEWCGROUP, "cgroup"],
  [CLONE.NEWPID, "pid"],
];

/** Runs the process; returns its exit status, or 0 once it started when detached. */
export async function execInContainer(opts: ExecOptions): Promise<number> {
  const record = opts.store.load(opts.id);
  const status = containerStatus(record);
  if (status !== "running") throw new ContainerError(`cannot exec in container ${opts.id}: it is ${status}`);
  const initPid = record.init!.pid;
  const joins: NamespaceJoin[] = JOINED.map(([flag, name]) => ({ flag, path: `/proc/${initPid}/ns/${name}` }));
  const signals = forwardSignals();
  const mountNs = openSync(`/proc/${initPid}/ns/mnt`, "r");
  let child: Subprocess | null = null;
  const [ours, theirs] = socketPair();
  try {
    try {
      child = inNamespaces(0, joins, () =>
        Bun.spawn(selfCommand("init"), { stdio: [...(opts.stdio ?? ["inherit", "inherit", "inherit"]), theirs, mountNs], env: {} }),
      );
    } finally {
      close(theirs);
      closeSync(mountNs);
    }
    if (record.cgroup) openCgroup(record.cgroup).addProcess(child.pid);
    sendMessage(ours, {
      type: "config",
      config: {
        id: opts.id,
        spec: { ...record.spec, process: opts.process },
        rootfs: record.rootfs,
        bundle: record.bundle,
        noPivot: false,
        startImmediately: true,
        exec: { mountNamespaceFd: 4, detached: opts.detached },
      },
    });
    const reader = new MessageReader<InitMessage>(ours);
    const ready = reader.next();
    if (ready?.type !== "ready") throw initFailure(ready);
    const after = reader.next(); // EOF: execve happened
    if (after) throw initFailure(after);
    if (opts.pidFile) writeFileSync(opts.pidFile, String(child.pid));
    if (opts.detached) {
      child.unref();
      return 0;
    }
    signals.attach(child.pid);
    await child.exited;
    return exitStatus(child.exitCode, child.signalCode);
  } catch (e) {
    if (child && child.exitCode === null) {
      kill(child.pid, 9);
      await child.exited;
    }
    throw e;
  } finally {
    close(ours);
    signals.dispose();
  }
}
