// --init (org.mycr.init): instead of becoming the user's program, PID 1 stays mycr and
// does what a shell or a server does not: reaps orphaned zombies, passes signals on (a
// program that is not PID 1 gets the kernel's default actions, so SIGTERM ends it) and
// exits with the program's status, as docker-init (tini) does.
//
// docker bind-mounts a static docker-init into the container and execs it. mycr is
// linked against the host's glibc: exec'd inside an alpine or busybox root it fails
// for want of its ELF interpreter. So the init already running keeps the job and
// starts the program with posix_spawn: nothing of the host is exec'd inside. Its
// /proc/1/exe is the sealed, read-only handle of the binary (self.ts), which nothing can
// reopen for writing.
import { ExecError } from "./lookpath";
import { SIGNALS, SysError, closeFdsOnExec, kill, reapChild, spawnProgram, tcsetpgrp, waitStatusCode } from "../sys";
import { FORWARDED_SIGNALS } from "./signals";

export interface Program {
  path: string;
  args: string[];
  env: string[];
  /** With a terminal: the program gets a process group of its own, made the terminal's foreground, so keys' signals (Ctrl-C) reach it, not PID 1. */
  foreground: boolean;
}

/**
 * Starts the program and supervises it until it exits, then exits with its status
 * through `exitNow`. Throws (synchronously) only when the program cannot be started.
 */
export function reap(program: Program, exitNow: (code: number) => never): void {
  closeFdsOnExec(3); // nothing of mycr's may leak into the program
  let main = -1;
  let mainStatus: number | null = null;
  const reapAll = (): void => {
    for (let r = reapChild(); r !== null; r = reapChild()) {
      if (r.pid === main) mainStatus = r.status;
    }
    if (mainStatus !== null) exitNow(waitStatusCode(mainStatus));
  };
  // Before the spawn: a program that ends at once must not slip past us.
  process.on("SIGCHLD", () => {
    if (main > 0) reapAll();
  });
  try {
    main = spawnProgram(program.path, program.args, program.env, { newProcessGroup: program.foreground });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    throw new ExecError(`"${program.args[0]}": cannot execute: ${e.message}`, e.errno === 2 ? 127 : 126);
  }
  if (program.foreground) {
    tcsetpgrp(0, main);
    // Had it touched the terminal before it was the foreground, it was stopped (SIGTTIN/SIGTTOU).
    kill(-main, SIGNALS.SIGCONT!);
  }
  for (const name of FORWARDED_SIGNALS) process.on(name, () => kill(main, SIGNALS[name]!));
  // Signal handlers do not keep Bun's event loop alive; PID 1 must stay until exitNow.
  setInterval(() => {}, 1 << 30);
  reapAll();
}
