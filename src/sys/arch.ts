// What differs between the two architectures built (x86_64, aarch64): raw syscall
// numbers for calls glibc does not wrap, and two open(2) flags aarch64 numbers its own way.
type SyscallTable = {
  pivot_root: number;
  seccomp: number;
  keyctl: number;
  openat2: number;
  close_range: number;
  move_mount: number;
  fsopen: number;
  fsconfig: number;
  fsmount: number;
  open_tree: number;
  mount_setattr: number;
  memfd_create: number;
  sendfile: number;
  pidfd_open: number;
  pidfd_getfd: number;
  pidfd_send_signal: number;
  quotactl: number;
  quotactl_fd: number;
  bpf: number;
  ioprio_set: number;
  sched_setattr: number;
  read: number;
  write: number;
  wait4: number;
  O_DIRECTORY: number;
  O_NOFOLLOW: number;
};

/** The new mount API (Linux 5.2) has the same numbers on both. */
const NEW_MOUNT = { open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, mount_setattr: 442 };

/** The pidfd calls (Linux 5.1-5.6) too. */
const PIDFD = { pidfd_send_signal: 424, pidfd_open: 434, pidfd_getfd: 438 };

const TABLES: Record<string, SyscallTable> = {
  x64: { pivot_root: 155, bpf: 321, ioprio_set: 251, sched_setattr: 314, read: 0, write: 1, wait4: 61, quotactl: 179, quotactl_fd: 443, seccomp: 317, keyctl: 250, openat2: 437, close_range: 436, ...NEW_MOUNT, ...PIDFD, memfd_create: 319, sendfile: 40, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000 },
  arm64: { pivot_root: 41, bpf: 280, ioprio_set: 30, sched_setattr: 274, read: 63, write: 64, wait4: 260, quotactl: 60, quotactl_fd: 443, seccomp: 277, keyctl: 219, openat2: 437, close_range: 436, ...NEW_MOUNT, ...PIDFD, memfd_create: 279, sendfile: 71, O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000 },
};

const table = TABLES[process.arch];
if (!table) throw new Error(`mycr supports x86_64 and aarch64, not ${process.arch}`);

export const SYS: SyscallTable = table;
