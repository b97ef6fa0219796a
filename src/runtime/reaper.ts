// --init (org.mycr.init): instead of becoming the user's program, PID 1 stays mycr and
// does what a shell or server does not: reaps orphaned zombies, passes signals on (a
// program that is not PID 1 gets the kernel's default actions, so SIGTERM ends it) and
// exits with the program's status. docker execs a static docker-init bind-mounted into
// the container; mycr is linked against the host's glibc and would not run inside an
// alpine or busybox root, so the already running init keeps the job: nothing new is
// exec'd from the host, and the binary stays busy (ETXTBSY) for as long as anything
// in the container lives, so /proc/1/exe cannot be opened for writing from inside.
import { readdirSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { SIGNALS, close, closeFdsOnExec, kill, reapChild, socketPair } from "../sys";
import { sendMessage, type ExecRequest } from "./messages";
import { exitStatus, FORWARDED_SIGNALS } from "./signals";

/** Zombies whose parent is us (orphans the kernel handed to PID 1), except `keep`, which Bun reaps. */
function reapOrphans(keep: number): void {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === keep) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state === "Z" && Number(ppid) === process.pid) reapChild(Number(name));
  }
}

/** Spawns the program through a fresh mycr: this process is multithreaded and must not fork. */
export function spawnProgram(request: ExecRequest): Subprocess {
  closeFdsOnExec(3); // the child gets its request socket only
  const [ours, theirs] = socketPair();
  try {
    // /proc/self/exe: the host path of mycr is not visible from inside the root.
    const child = Bun.spawn(["/proc/self/exe", "init-exec"], { stdio: ["inherit", "inherit", "inherit", theirs], env: {} });
    sendMessage(ours, request);
    return child;
  } finally {
    close(theirs);
    close(ours);
  }
}

/** Passes signals on, reaps every zombie, and exits with the program's status. */
export async function superviseProgram(child: Subprocess, exitNow: (code: number) => never): Promise<never> {
  for (const name of FORWARDED_SIGNALS) process.on(name, () => kill(child.pid, SIGNALS[name]!));
  process.on("SIGCHLD", () => reapOrphans(child.pid));
  await child.exited;
  reapOrphans(child.pid);
  return exitNow(exitStatus(child.exitCode, child.signalCode));
}
