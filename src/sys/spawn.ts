// posix_spawn(3): starting a program from a multithreaded process without forking it.
// glibc runs only its own code in the child (clone with CLONE_VM|CLONE_VFORK) until
// execve, and reports a failed execve as the return value.
import { libc, cstr, cStringArray } from "./libc";
import { SysError } from "./errno";

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;

/** posix_spawnattr_t is 336 bytes with glibc on x86_64 and aarch64; room to spare. */
const ATTR_SIZE = 1024;

export interface SpawnOptions {
  /** Put the child in a new process group of its own (pgid = its pid). */
  newProcessGroup: boolean;
}

function check(err: number, call: string, detail: string): void {
  if (err !== 0) throw new SysError(call, detail, err); // these return the errno itself
}

/** Spawns `path` with every signal at its default and none blocked; returns the pid. */
export function spawnProgram(path: string, argv: string[], env: string[], opts: SpawnOptions): number {
  const keep: Buffer[] = [];
  const vector = (items: string[]) => cStringArray(items, keep);
  const attr = new Uint8Array(ATTR_SIZE);
  check(libc.posix_spawnattr_init(attr), "posix_spawnattr_init", "");
  try {
    const all = new Uint8Array(128); // sigset_t: every signal but KILL, STOP and glibc's own (32, 33)
    for (let sig = 1; sig <= 64; sig++) if (![9, 19, 32, 33].includes(sig)) all[(sig - 1) >> 3]! |= 1 << ((sig - 1) & 7);
    const none = new Uint8Array(128);
    check(libc.posix_spawnattr_setsigdefault(attr, all), "posix_spawnattr_setsigdefault", "all");
    check(libc.posix_spawnattr_setsigmask(attr, none), "posix_spawnattr_setsigmask", "none");
    let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (opts.newProcessGroup) {
      check(libc.posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup", "0");
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    check(libc.posix_spawnattr_setflags(attr, flags), "posix_spawnattr_setflags", `0x${flags.toString(16)}`);
    const pid = new Int32Array(1);
    check(libc.posix_spawn(pid, cstr(path), null, attr, vector(argv), vector(env)), "posix_spawn", path);
    void keep;
    return pid[0]!;
  } finally {
    libc.posix_spawnattr_destroy(attr);
  }
}

/** A raw wait status as the shell reports it: the exit code, or 128+N after signal N. */
export function waitStatusCode(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}
