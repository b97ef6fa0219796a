// The native init's steps (docs/performance.md, "Design of the native init"): what the C
// in native/spawn-in-namespaces.c does in the window on our thread and in the child
// between clone and execve. Every value is decided by the caller (runtime/native-plan.ts);
// here they only become the words the C reads. Each step names itself for errors.
import type { ExecStub } from "./exec-stub";
import type { NativeArena, Word } from "./native-arena";

/** Where a mount point is, inside a root the kernel resolves it in (RESOLVE_IN_ROOT). */
export interface InRoot {
  /** Host path of the root (trusted: the runtime's own directory). */
  root: string;
  /** Path inside it, relative, without "." or ".." parts. */
  path: string;
}

export type NativeStep =
  | { op: "mount"; source: string | null; target: string; fstype: string | null; flags: number; data: string | null }
  /** kind: a directory (made if missing), a file (made if missing), or a directory that must exist. */
  | { op: "mountIn"; source: string | null; at: InRoot; fstype: string | null; flags: number; data: string | null; kind: "dir" | "file" | "existing" }
  | { op: "mknodIn"; dir: InRoot; name: string; mode: number; dev: number; uid: number; gid: number; bindIfRefused: string | null; skipIfPresent: boolean }
  | { op: "symlinkIn"; dir: InRoot; name: string; target: string }
  /** A directory (made if missing) the window holds open for the child, whose paths "@slot/..." then lead into it. */
  | { op: "holdIn"; at: InRoot; slot: number }
  | { op: "symlink"; target: string; path: string }
  /** A pty of the container's devpts (`ptmx` resolved in its root), opened in the window: `pty.master` is ours once the window ran. */
  | { op: "ptyIn"; ptmx: InRoot; rows: number; cols: number; pty: NativePty }
  /** In the child: that pty's other end becomes its controlling terminal, fds 0-2 and /dev/console. */
  | { op: "console"; pty: NativePty }
  /** In an exec'd child: a terminal of ours (its copy) becomes its controlling terminal and fds 0-2 (the container's /dev/console stays). */
  | { op: "controllingTerminal"; fd: number }
  | { op: "pivot"; root: string }
  | { op: "hostname" | "domainname"; name: string }
  | { op: "loopbackUp" }
  | { op: "mkdir" | "mask" | "readonly" | "keyring"; path: string }
  | { op: "chdir"; path: string; checkInsideRoot: boolean }
  | { op: "bounding"; keep: bigint; last: number }
  | { op: "keepCaps"; on: boolean }
  | { op: "groups"; gids: number[] }
  | { op: "deathSignal"; signal: number }
  | { op: "capset"; effective: bigint; permitted: bigint; inheritable: bigint }
  | { op: "ambient"; caps: number[] }
  | { op: "noNewPrivileges" }
  | { op: "seccomp"; program: Uint8Array; flags: number }
  | { op: "setsid" }
  /** PR_SET_DUMPABLE 0 (for a child that waits: its /proc entries, its fds among them, are then root's alone). */
  | { op: "notDumpable" }
  /** A procfs of the child's PID namespace, mounted nowhere, for waitForStart (needs CAP_SYS_ADMIN: before the capabilities go). */
  | { op: "ownProc" }
  /**
   * `create`'s end: the program is looked for among `candidates` (as exec's search), the
   * caller is told the child is set up (startInWindow's go() returns) and the child blocks
   * opening the exec fifo for writing until `start` opens it for reading (runc's
   * protocol). `fifoFd` is the caller's O_PATH fd of the fifo, opened before the window,
   * reopened through the ownProc step's procfs.
   */
  | { op: "waitForStart"; fifoFd: number; candidates: string[]; explicit: boolean }
  | { op: "umask"; mask: number }
  /** setrlimit (as root, before the ids change: raising a hard limit needs CAP_SYS_RESOURCE). */
  | { op: "rlimit"; resource: number; soft: bigint; hard: bigint }
  /** The last step: the first candidate that exists is exec'd with the request's argv and env (`explicit`: a path, not a search of PATH). */
  | { op: "exec"; candidates: string[]; explicit: boolean }
  /** exec's search, the program then started through `stub` (exec-stub.ts): the child's fds must be 0-2 only. */
  | { op: "execVia"; candidates: string[]; explicit: boolean; stub: ExecStub };

/** The fds a ptyIn step opened (read after the window; -1 before). */
export class NativePty {
  /** Filled by the C: [root, ptmx path, rows, cols, master, peer]. */
  words: BigInt64Array | null = null;
  /** Where those words are, for the console step that reads them (0 until encoded). */
  address = 0;
  get master(): number {
    return this.words ? Number(this.words[4]) : -1;
  }
  get peer(): number {
    return this.words ? Number(this.words[5]) : -1;
  }
}

const CODES: Record<NativeStep["op"], number> = {
  mount: 8, mountIn: 9, mknodIn: 10, symlinkIn: 11, pivot: 12, hostname: 13, domainname: 14, loopbackUp: 15,
  mkdir: 16, mask: 17, readonly: 18, keyring: 19, chdir: 20, bounding: 21, keepCaps: 22, groups: 23, deathSignal: 24,
  capset: 25, ambient: 26, noNewPrivileges: 27, seccomp: 28, setsid: 29, umask: 30, holdIn: 31, exec: 32, execVia: 37, rlimit: 38, symlink: 33, ptyIn: 34, console: 35, controllingTerminal: 36,
  waitForStart: 39, notDumpable: 40, ownProc: 41,
};
const KINDS = { dir: 0, file: 1, existing: 2 } as const;

/** Encodes a step as [op, a, b]; what `a` points at is written into the arena (alive until the child exec'd). */
export function encodeNativeStep(s: NativeStep, arena: NativeArena): [number, Word, Word] {
  const str = (text: string | null): number => arena.str(text);
  const block = (words: Word[]): number => arena.words(words);
  const code = CODES[s.op];
  switch (s.op) {
    case "mount":
      return [code, block([str(s.source), str(s.target), str(s.fstype), s.flags, str(s.data)]), 0];
    case "mountIn":
      return [code, block([str(s.source), str(s.at.root), str(s.at.path), str(s.fstype), s.flags, str(s.data), KINDS[s.kind]]), 0];
    case "mknodIn":
      return [code, block([str(s.dir.root), str(s.dir.path), str(s.name), s.mode, s.dev, s.uid, s.gid, str(s.bindIfRefused), s.skipIfPresent ? 1 : 0]), 0];
    case "symlinkIn":
      return [code, block([str(s.dir.root), str(s.dir.path), str(s.name), str(s.target)]), 0];
    case "holdIn":
      return [code, block([str(s.at.root), str(s.at.path)]), s.slot];
    case "symlink":
      return [code, block([str(s.target), str(s.path)]), 0];
    case "ptyIn": {
      const pty = arena.view([str(s.ptmx.root), str(s.ptmx.path), s.rows, s.cols, -1, -1]);
      s.pty.words = pty.words;
      s.pty.address = pty.address;
      return [code, pty.address, 0];
    }
    case "console":
      if (s.pty.address === 0) throw new Error("native steps: a console step needs its ptyIn step before it");
      return [code, s.pty.address, 0];
    case "pivot":
      return [code, str(s.root), 0];
    case "hostname":
    case "domainname":
      return [code, str(s.name), Buffer.byteLength(s.name)];
    case "mkdir":
    case "mask":
    case "readonly":
    case "keyring":
      return [code, str(s.path), 0];
    case "chdir":
      return [code, str(s.path), s.checkInsideRoot ? 1 : 0];
    case "bounding":
      return [code, block([s.keep, s.last]), 0];
    case "keepCaps":
      return [code, s.on ? 1 : 0, 0];
    case "groups":
      return [code, arena.u32s(s.gids), s.gids.length];
    case "deathSignal":
      return [code, s.signal, 0];
    case "capset": {
      // struct __user_cap_header_struct { u32 version (v3), int pid }, then two data structs
      const lo = (v: bigint) => Number(v & 0xffffffffn);
      const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
      return [code, arena.u32s([0x20080522, 0, lo(s.effective), lo(s.permitted), lo(s.inheritable), hi(s.effective), hi(s.permitted), hi(s.inheritable)]), 0];
    }
    case "ambient":
      return [code, arena.u32s(s.caps), s.caps.length];
    case "seccomp":
      // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
      return [code, block([s.program.length / 8, arena.hold(s.program)]), s.flags];
    case "umask":
      return [code, s.mask, 0];
    case "controllingTerminal":
      return [code, s.fd, 0];
    case "rlimit":
      return [code, block([s.resource, s.soft, s.hard]), 0];
    case "exec":
      return [code, arena.strings(s.candidates), s.explicit ? 1 : 0];
    case "execVia":
      return [code, block([arena.strings(s.candidates), s.stub.fd, s.stub.execveat]), s.explicit ? 1 : 0];
    case "waitForStart":
      return [code, block([s.fifoFd, arena.strings(s.candidates), s.explicit ? 1 : 0]), 0];
    default:
      return [code, 0, 0];
  }
}
