// Starting mycr's init (or exec's process) in the container's namespaces. Two ways:
// - a plain Bun.spawn from a thread that unshared/joined the namespaces first (mount,
//   UTS, IPC, network, PID): the usual, cheapest way;
// - with a user or time namespace, a single-threaded C child (sys/spawn-namespaced.ts)
//   that runs the steps decided here: join, create, stop while we write its id maps and
//   clock offsets from outside, take root's ids, fork into a new PID namespace, exec.
// docs/design-userns.md says why and what each step costs.
import { closeSync, openSync } from "node:fs";
import { CLONE, inNamespaces, nativeCodeSource, prepareNamespacedSpawn, spawnNamespaced, watchChild, type NamespaceJoin, type SpawnStep } from "../sys";
import { trace } from "./trace";
import type { IdMapping, Spec } from "../spec/types";
import { writeIdMaps } from "./idmap";
import { isHostRoot } from "./rootless";
import { needsSingleThreadedSpawn, type NamespacePlan } from "./namespaces";
import { writeTimeOffsets } from "./time-offsets";
import type { Stdio } from "./launch";

/** What launch, run and exec need of the process, whichever way it was started. */
export interface ContainerProcess {
  readonly pid: number;
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly signalCode: string | number | null;
  kill(signal?: number): void;
  unref(): void;
}

export type ChildStdio = [...Stdio, ...Array<number | "ignore">];

export interface InitSpawn {
  plan: NamespacePlan;
  command: string[];
  argv0: string;
  stdio: ChildStdio;
  env: Record<string, string>;
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  timeOffsets?: NonNullable<Spec["linux"]>["timeOffsets"];
}

export function spawnInit(s: InitSpawn): ContainerProcess {
  // Without root over the namespaces we are in (an ordinary user, or root of rootless
  // podman's user namespace) our thread could leave them but never come back: the child
  // does every join and unshare itself.
  const canComeBack = isHostRoot();
  if (!needsSingleThreadedSpawn(s.plan) && canComeBack) {
    return inNamespaces(s.plan.unshareFlags, s.plan.joins, () =>
      Bun.spawn(s.command, { argv0: s.argv0, stdio: s.stdio as Stdio, env: s.env }),
    );
  }
  // Namespaces owned by a user namespace we join are entered after it, by the child: from
  // our thread we could enter them, but not come back when ours are not ours to enter
  // (a rootless mycr's are the host's). Others are joined here, before a new user namespace.
  if (s.plan.user?.path || !canComeBack) return spawnSingleThreaded(s, s.plan.joins);
  return inNamespaces(0, s.plan.joins, () => spawnSingleThreaded(s, []));
}

interface Program {
  cloneFlags: number;
  steps: SpawnStep[];
  /** What we do from outside while the child waits at the sync step of that index. */
  atSync: Map<number, (pid: number) => void>;
}

/**
 * The child's steps. Joins come before a new user namespace is made (we are still the
 * host's root then), a joined user namespace before anything made after it (so it owns
 * it); new namespaces made together with a new user namespace are owned by it.
 */
function program(s: InitSpawn, fds: { user?: number; time?: number; after: Array<{ fd: number; flag: number; path: string }> }): Program {
  const { plan } = s;
  const steps: SpawnStep[] = [];
  const atSync = new Map<number, (pid: number) => void>();
  const sync = (action: (pid: number) => void) => {
    atSync.set(steps.length, action);
    steps.push({ op: "sync" });
  };
  let cloneFlags = 0;
  let unshared = 0; // what the child makes with unshare: a new PID namespace then needs a fork
  const unshare = (flags: number) => {
    if (flags === 0) return;
    steps.push({ op: "unshare", flags });
    unshared |= flags;
  };
  if (fds.user !== undefined) {
    steps.push({ op: "setns", fd: fds.user, nstype: CLONE.NEWUSER, what: `user namespace ${plan.user!.path}` });
    steps.push({ op: "setid", uid: 0, gid: 0 });
  }
  for (const j of fds.after) steps.push({ op: "setns", fd: j.fd, nstype: j.flag, what: j.path });
  if (fds.time !== undefined) steps.push({ op: "setns", fd: fds.time, nstype: CLONE.NEWTIME, what: `time namespace ${plan.time!.path}` });
  const joinedFirst = steps.length > 0;
  if (!joinedFirst) cloneFlags = plan.unshareFlags | (plan.user && !plan.user.path ? CLONE.NEWUSER : 0); // one clone: the fastest way
  else unshare(plan.unshareFlags | (plan.user && !plan.user.path ? CLONE.NEWUSER : 0));
  if (plan.user && !plan.user.path) {
    sync((pid) => writeIdMaps(pid, s.uidMappings ?? [], s.gidMappings ?? []));
    steps.push({ op: "setid", uid: 0, gid: 0 }); // the ids it had are unmapped here: take root's
  }
  if (plan.time && !plan.time.path) {
    // Entered at execve (or by the fork below); offsets first, while nobody is inside.
    unshare(CLONE.NEWTIME);
    sync((pid) => writeTimeOffsets(pid, s.timeOffsets ?? {}));
  }
  // unshare(NEWPID) and setns into a PID namespace move only the children
  if (unshared & CLONE.NEWPID || fds.after.some((j) => j.flag === CLONE.NEWPID)) steps.push({ op: "fork" });
  // Sharing our memory spares copying Bun's page tables; joining a time namespace needs a
  // process that shares its memory with nobody.
  if (fds.time === undefined) cloneFlags |= CLONE.VM;
  return { cloneFlags, steps, atSync };
}

/** `joinsAfterUser`: namespaces the child joins itself, right after the user namespace. */
function spawnSingleThreaded(s: InitSpawn, joinsAfterUser: NamespaceJoin[]): ContainerProcess {
  const opened: number[] = [];
  const open = (path: string, flags = "r") => {
    const fd = openSync(path, flags);
    opened.push(fd);
    return fd;
  };
  try {
    const fds = {
      ...(s.plan.user?.path ? { user: open(s.plan.user.path) } : {}),
      ...(s.plan.time?.path ? { time: open(s.plan.time.path) } : {}),
      after: joinsAfterUser.map((j) => ({ ...j, fd: open(j.path) })),
    };
    const { cloneFlags, steps, atSync } = program(s, fds);
    prepareNamespacedSpawn();
    trace(`spawn-init: C child loaded (${nativeCodeSource()})`);
    const childFds = s.stdio.map((x, i) => (x === "inherit" ? i : x === "ignore" ? open("/dev/null", "r+") : x));
    // Our sealed binary through the child's own copy of the fd: /proc/<our pid>/fd is
    // not the child's to open once it is someone else in a user namespace.
    const path = s.command[0]!.replace(`/proc/${process.pid}/fd/`, "/proc/self/fd/");
    const pid = spawnNamespaced({
      cloneFlags,
      steps,
      path,
      argv: [s.argv0, ...s.command.slice(1)],
      env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
      fds: childFds,
      onSync: (child, step) => {
        trace(`spawn-init: child waits at step ${step}`);
        atSync.get(step)?.(child);
        trace(`spawn-init: step ${step} done from outside`);
      },
    });
    trace("spawn-init: child exec'd");
    return watchChild(pid);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}
