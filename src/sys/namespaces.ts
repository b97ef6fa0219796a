import { openSync, closeSync } from "node:fs";
import { CLONE } from "./constants";
import { libc, check } from "./libc";

export function unshare(flags: number): void {
  check(libc.unshare(flags), "unshare", `0x${flags.toString(16)}`);
}

export function setns(fd: number, nstype: number, what: string): void {
  check(libc.setns(fd, nstype), "setns", what);
}

/** Clone flag -> the entry under /proc/thread-self/ns that the calling thread is moved by. */
const THREAD_NS_ENTRY: Array<[number, string]> = [
  [CLONE.NEWNS, "mnt"],
  [CLONE.NEWUTS, "uts"],
  [CLONE.NEWIPC, "ipc"],
  [CLONE.NEWNET, "net"],
  [CLONE.NEWCGROUP, "cgroup"],
  [CLONE.NEWPID, "pid_for_children"],
];

export interface NamespaceJoin {
  flag: number;
  path: string;
}

/**
 * Runs `fn` with the calling thread in fresh namespaces (`unshareFlags`) and in
 * existing ones (`joins`), then moves the thread back. unshare and setns change only
 * the calling thread, so what `fn` spawns is born inside while the rest of this
 * process never notices. Everything is synchronous: no other JS runs in between.
 */
export function inNamespaces<T>(unshareFlags: number, joins: NamespaceJoin[], fn: () => T): T {
  const touched = unshareFlags | joins.reduce((acc, j) => acc | j.flag, 0);
  const saved = THREAD_NS_ENTRY.filter(([flag]) => touched & flag).map(([flag, name]) => ({
    name,
    fd: openSync(`/proc/thread-self/ns/${name}`, "r"),
    flag,
  }));
  // Joining a mount namespace resets this thread's cwd to its root; remember ours.
  const cwd = openSync(".", "r");
  const joinFds = joins.map((j) => ({ ...j, fd: openSync(j.path, "r") }));
  try {
    // setns(mnt) needs a thread-private fs struct (cwd/root); unshare gives one.
    if (touched & CLONE.NEWNS) unshare(CLONE.FS);
    try {
      for (const j of joinFds) setns(j.fd, j.flag, j.path);
      if (unshareFlags) unshare(unshareFlags);
      return fn();
    } finally {
      for (const { name, fd } of saved) setns(fd, 0, `/proc/thread-self/ns/${name}`);
      check(libc.fchdir(cwd), "fchdir", "<saved cwd>");
    }
  } finally {
    for (const { fd } of [...saved, ...joinFds]) closeSync(fd);
    closeSync(cwd);
  }
}
