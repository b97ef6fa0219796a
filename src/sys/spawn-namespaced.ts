// Starting a program in namespaces a multithreaded process may not enter itself (user,
// time): a fork-like child written in C (native/spawn-in-namespaces.c) runs a list of
// steps the caller decides, stopping at each `sync` until the caller has done its part
// from outside (written the child's uid_map, its time offsets...), then execve()s.
// See docs/design-userns.md for why this way and what each step costs.
import { FFIType, type Pointer } from "bun:ffi";
import { openSync, readSync, writeSync } from "node:fs";
import { CLONE, O_CLOEXEC, O_RDONLY } from "./constants";
import sourcePath from "./native/spawn-in-namespaces.c" with { type: "file" };
import { loadC } from "./native-cc";
import { libc } from "./libc";
import { close, socketPair } from "./fd";
import { SysError } from "./errno";
import { SYS } from "./arch";
import { encodeNativeStep, type NativeStep } from "./native-steps";
import { NativeArena, type Word } from "./native-arena";

/** What the child does between clone and execve, in order. */
export type SpawnStep =
  | { op: "setns"; fd: number; nstype: number; what: string }
  | { op: "unshare"; flags: number }
  /** setresgid + setresuid: in a new user namespace the child keeps the ids it had until it takes mapped ones. */
  | { op: "setid"; uid: number; gid: number }
  /** setgroups(0, NULL) (not allowed where /proc/PID/setgroups says deny). */
  | { op: "nogroups" }
  /** Stop until the caller's onSync for this step returns. */
  | { op: "sync" }
  /** Exit instead of exec: the child only had to exist (see userNamespaceFd). */
  | { op: "exit" }
  /** Continue in a sibling (CLONE_PARENT: also our child), e.g. to be PID 1 of a PID namespace unshared just before. */
  | { op: "fork" }
  /** The native init's (native-steps.ts); `what` names it in errors. */
  | (NativeStep & { what: string });

export interface NamespacedSpawn {
  /**
   * Namespaces the child is cloned into (CLONE_NEWUSER among them: created first, owning
   * the others), and CLONE_VM where it may share our memory: much faster, but the kernel
   * then counts it as one of our threads (setns into a time namespace refuses it).
   */
  cloneFlags: number;
  steps: SpawnStep[];
  path: string;
  argv: string[];
  env: string[];
  /** The child's fds 0, 1, 2, ...: fds of ours (everything else is closed). */
  fds: number[];
  /** Called at each `sync` step with the pid (in our PID namespace) of the process that waits. */
  onSync?: (pid: number, step: number) => void;
}

const OPS = { setns: 1, unshare: 2, sync: 3, fork: 4, setid: 5, nogroups: 6, exit: 7 } as const;
const REPORT = { SYNC: 1, FORKED: 2, ERROR: 3, WAITING: 4 } as const;
const CLONE_NR: Record<string, number> = { x64: 56, arm64: 220 };

let compiled: ReturnType<typeof compileSpawn> | undefined;

function compileSpawn() {
  return loadC("spawn-in-namespaces", sourcePath, {
    mycr_spawn_in_namespaces: { args: [FFIType.ptr], returns: FFIType.i64 },
    mycr_enter_and_spawn: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i64 },
  });
}

/** Compiles the C child now (once per process; spawnNamespaced does it otherwise). */
export function prepareNamespacedSpawn(): void {
  compiled ??= compileSpawn();
}

/** The request the C reads (its layout is described there), in `arena`; returns its address. */
function request(spec: NamespacedSpawn, childEnd: number, ourEnd: number, arena: NativeArena): number {
  // Pointed at, not copied: the arena must live until the child has exec'd.
  const words: Word[] = [
    spec.cloneFlags, CLONE_NR[process.arch]!, childEnd, ourEnd,
    arena.str(spec.path), arena.strings(spec.argv), arena.strings(spec.env), spec.fds.length, spec.steps.length,
    ...spec.fds,
    ...encodeSteps(spec.steps, arena),
  ];
  return arena.words(words);
}

function encodeSteps(steps: SpawnStep[], arena: NativeArena): Word[] {
  const words: Word[] = [];
  for (const s of steps) {
    if (s.op === "setns") words.push(OPS.setns, s.fd, s.nstype);
    else if (s.op === "unshare") words.push(OPS.unshare, s.flags, 0);
    else if (s.op === "setid") words.push(OPS.setid, s.uid, s.gid);
    else if (s.op in OPS) words.push(OPS[s.op as keyof typeof OPS], 0, 0);
    else words.push(...encodeNativeStep(s as NativeStep, arena));
  }
  return words;
}

function readReport(fd: number): [kind: number, step: number, value: number] | null {
  const buf = Buffer.alloc(16);
  let got = 0;
  while (got < 16) {
    const n = readSync(fd, buf, got, 16 - got, null);
    if (n === 0) return null;
    got += n;
  }
  return [buf.readInt32LE(0), buf.readInt32LE(4), buf.readInt32LE(8)];
}

function stepName(spec: { path: string; steps: SpawnStep[] }, step: number): string {
  if (step === -1) return `execve(${spec.path})`;
  if (step === -2) return "placing the child's fds";
  const s = spec.steps[step];
  if (s?.op === "setns") return `setns(${s.what})`;
  if (s && "what" in s) return s.what;
  if (s?.op === "unshare") return `unshare(0x${s.flags.toString(16)})`;
  if (s?.op === "setid") return `setresuid(${s.uid})/setresgid(${s.gid})`;
  if (s?.op === "nogroups") return "setgroups(0)";
  return s?.op ?? `step ${step}`;
}

/** Blocks until a child that exits right away has (a stage that forked its successor). */
function reap(pid: number): void {
  libc.waitpid(pid, new Int32Array(1), 0);
}

/**
 * Starts the program; returns its pid once execve has succeeded (the child's end of the
 * sync socket closes on exec). On any failure the child is gone and reaped, and the
 * error names the step.
 */
export function spawnNamespaced(spec: NamespacedSpawn): number {
  compiled ??= compileSpawn();
  if (windowBusy || stackHeld) throw new Error("spawnNamespaced: a native init runs on the C's stack in this process");
  const [ours, theirs] = socketPair();
  const arena = new NativeArena();
  let pid = -1;
  try {
    const req = request(spec, theirs, ours, arena);
    const r = Number(compiled.mycr_spawn_in_namespaces(req as Pointer));
    close(theirs);
    if (r < 0) throw new SysError("clone", `0x${spec.cloneFlags.toString(16)}`, -r);
    pid = r;
    for (;;) {
      const report = readReport(ours);
      if (!report) return pid; // EOF: execve closed the socket
      const [kind, step, value] = report;
      if (kind === REPORT.SYNC) {
        spec.onSync?.(pid, step);
        writeSync(ours, "g");
      } else if (kind === REPORT.FORKED) {
        reap(pid);
        pid = value;
      } else {
        reap(pid);
        pid = -1;
        throw new SysError(stepName(spec, step), "in the namespaced child", value);
      }
    }
  } catch (e) {
    if (pid > 0) {
      libc.kill(pid, 9);
      reap(pid);
    }
    throw e;
  } finally {
    close(ours); // a child still waiting at a sync step reads EOF and exits
    arena.release();
  }
}

/**
 * An fd of a new user namespace whose maps `writeMaps(pid)` writes (an idmapped mount's
 * mapping): a child is cloned into it, held while we write and open it, then ends.
 */
export function userNamespaceFd(writeMaps: (pid: number) => void): number {
  let fd = -1;
  const pid = spawnNamespaced({
    cloneFlags: CLONE.NEWUSER | CLONE.VM,
    steps: [{ op: "sync" }, { op: "exit" }],
    path: "/",
    argv: [],
    env: [],
    fds: [],
    onSync: (child) => {
      writeMaps(child);
      fd = openSync(`/proc/${child}/ns/user`, O_RDONLY | O_CLOEXEC);
    },
  });
  reap(pid);
  return fd;
}

/** What runs on our own thread, in one C call, around the child's clone. */
export interface Window {
  /** Our namespaces to come back to (fds of /proc/thread-self/ns/...), the caller's to close. */
  saved: number[];
  /** Our cwd to come back to (an fd), the caller's to close. */
  cwd: number;
  /** unshare, setns (a PID namespace: for the child only) and native steps, run on our thread before the clone. */
  steps: SpawnStep[];
  /** The child's parent is a keeper (below) that outlives us, not this process. */
  keeper?: KeeperSpec;
}

/**
 * A keeper (native/spawn-in-namespaces.c): a process of no JavaScript that clones the
 * child, so that it is the child's parent, and on keep() execs `path` (mycr's
 * supervisor): the same process, so still the child's parent.
 */
export interface KeeperSpec {
  path: string;
  argv: string[];
  env: string[];
}

/** The keeper of a child started in a window. */
export interface Keeper {
  pid: number;
  /**
   * Has it exec the program with `fds` (ours when it was made: the same numbers) as its
   * 0, 1, ...; throws when it could not (it then killed the child and exited).
   */
  keep(fds: number[]): void;
  /** Has it kill the child and exit; returns once both are gone. */
  drop(): void;
}

/** A child started in a window, stopped at its first `sync` step until `go()`. */
export interface WindowChild {
  pid: number;
  /**
   * Lets the child go on, and blocks until it exec'd or, with a `waitForStart` step,
   * until it waits there for `start`; throws naming the step that failed (the child then exits).
   */
  go(): void;
  /** Kills the child, if it was not let go; frees what it read. The caller reaps it, as after go(). */
  abort(): void;
  /** With window.keeper: the child's parent. */
  keeper?: Keeper;
}

/**
 * The native init's start (docs/performance.md): one C call enters new namespaces on our
 * thread, runs the window's steps there, clones the child (CLONE_NEWPID among
 * `spec.cloneFlags`) and comes back; the child runs `spec.steps` up to its first
 * `sync` and waits. No JavaScript runs in between. Throws naming the failed step.
 * One at a time: the child runs on the C's one stack until it has exec'd.
 */
export function startInWindow(spec: NamespacedSpawn, window: Window): WindowChild {
  compiled ??= compileSpawn();
  if (windowBusy || stackHeld) throw new Error("startInWindow: a native init is still starting in this process");
  const [ours, theirs] = socketPair();
  // the child reads its steps from it until it has exec'd, after we return
  const arena = new NativeArena();
  const keeping = window.keeper ? keeperBlock(window.keeper) : null;
  const numbers = [SYS.pivot_root, SYS.seccomp, SYS.keyctl, SYS.openat2, SYS.close_range, SYS.O_DIRECTORY, SYS.O_NOFOLLOW];
  // The window's steps first: a child's step may refer to what one of them opens (console -> ptyIn).
  const { address: winAddress, words: win } = arena.view([window.saved.length, window.cwd, window.steps.length, -1, 0, ...numbers, keeping?.address ?? 0, ...window.saved, ...encodeSteps(window.steps, arena)]);
  const req = request(spec, theirs, ours, arena);
  let pid = Number(compiled.mycr_enter_and_spawn(req as Pointer, winAddress as Pointer));
  close(theirs);
  const keeper = keeping?.started();
  // A child that waits for `start` runs on the C's one stack for as long as this process
  // lives (it has its own copy of everything else): no other start may use the stack then.
  let waitsForStart = false;
  const finish = () => {
    close(ours);
    arena.release();
    windowBusy = false;
    if (waitsForStart) stackHeld = true;
    for (const wake of windowWaiters.splice(0)) wake(!stackHeld);
  };
  if (pid < 0) {
    keeper?.drop();
    finish();
    const step = Number(win[3]);
    const what = step >= window.steps.length ? `clone(0x${spec.cloneFlags.toString(16)})` : stepName({ path: spec.path, steps: window.steps }, step);
    throw new SysError(what, "in the container's namespaces", Number(win[4]));
  }
  windowBusy = true;
  let waiting = true;
  const kill = () => {
    if (keeper) keeper.drop();
    else if (pid > 0) {
      libc.kill(pid, 9);
      reap(pid);
    }
    pid = -1;
  };
  const first = readReport(ours);
  if (!first || first[0] !== REPORT.SYNC) {
    kill();
    finish();
    throw first ? new SysError(stepName(spec, first[1]), "in the container's first process", first[2]) : new Error("the container's first process ended during setup");
  }
  return {
    pid,
    ...(keeper ? { keeper } : {}),
    go() {
      waiting = false;
      try {
        writeSync(ours, "g");
        const report = readReport(ours);
        if (!report) return; // EOF: execve closed the socket
        if (report[0] === REPORT.WAITING) {
          waitsForStart = true;
          return;
        }
        pid = -1; // it exits by itself; the caller reaps it (watchChild)
        throw new SysError(stepName(spec, report[1]), "in the container's first process", report[2]);
      } finally {
        finish();
      }
    },
    abort() {
      if (!waiting) return;
      waiting = false;
      if (keeper) keeper.drop(); // it kills and reaps the child: the stack is free after
      else {
        libc.kill(pid, 9);
        // Until it is gone it may still run on the C's one stack: wait for that (without
        // reaping: that is the caller's, as after go()) before another start may use it.
        const P_PID = 1, WEXITED = 4, WNOWAIT = 0x01000000;
        libc.waitid(P_PID, pid, new Uint8Array(128), WEXITED | WNOWAIT);
      }
      finish();
    },
  };
}

/**
 * The keeper's words (native/spawn-in-namespaces.c) in an arena of their own: it reads
 * them until its execve, after the window's arena is gone. `started` is called once the
 * C returned: the keeper's pid, and what the caller tells it.
 */
function keeperBlock(spec: KeeperSpec): { address: number; started(): Keeper | undefined } {
  // It runs on the C's one keeper stack until its execve or exit.
  if (keeperPending) throw new Error("startInWindow: a keeper of this process has not been kept or dropped yet");
  keeperPending = true;
  const arena = new NativeArena();
  const [ours, theirs] = socketPair();
  const { address, words } = arena.view([theirs, ours, arena.str(spec.path), arena.strings(spec.argv), arena.strings(spec.env), SYS.read, SYS.write, SYS.wait4, 0]);
  let done = false;
  const end = (pid: number): void => {
    if (done) return;
    done = true;
    close(ours);
    if (pid > 0) reap(pid);
    arena.release();
    keeperPending = false;
  };
  return {
    address,
    started() {
      close(theirs);
      const pid = Number(words[8]);
      if (pid <= 0) {
        end(-1);
        return undefined;
      }
      return {
        pid,
        keep(fds) {
          if (done) throw new Error("the container's keeper is gone");
          const message = Buffer.alloc(9 + 8 * fds.length);
          message.write("k");
          [fds.length, ...fds].forEach((n, i) => message.writeBigInt64LE(BigInt(n), 1 + 8 * i));
          writeSync(ours, message);
          // EOF: its execve closed our socket; anything else is why it could not
          const answer = Buffer.alloc(16);
          const n = readSync(ours, answer, 0, 16, null);
          if (n === 0) {
            done = true;
            close(ours);
            arena.release(); // not reaped: it is the supervisor now, and outlives us
            keeperPending = false;
            return;
          }
          end(pid);
          // an errno (8 bytes) from execve, or a report (16) from placing the fds
          throw new SysError(n === 16 ? "placing the supervisor's fds" : "execve", spec.path, n === 16 ? answer.readInt32LE(8) : answer.readInt32LE(0));
        },
        drop: () => end(pid),
      };
    },
  };
}

let windowBusy = false;
/** A keeper of ours has not exec'd or exited yet. */
let keeperPending = false;
/** A child of ours waits for `start` on the C's stack: it is taken for the life of this process. */
let stackHeld = false;

/** Whether a startInWindow child of ours has not exec'd yet (a second must wait, or take another way). */
export function windowStartInProgress(): boolean {
  return windowBusy || stackHeld;
}

const windowWaiters: ((free: boolean) => void)[] = [];

/**
 * Resolves once no startInWindow child of ours is starting. Every waiter wakes when the
 * window frees: the first to call startInWindow (synchronously, in that same turn) takes
 * it, so each must check windowStartInProgress() again and wait anew while it is taken.
 * Resolves false when a child waiting for `start` holds it for good: waiting is no use.
 */
export function windowFreed(): Promise<boolean> {
  if (stackHeld) return Promise.resolve(false);
  if (!windowBusy) return Promise.resolve(true);
  return new Promise((resolve) => windowWaiters.push(resolve));
}
