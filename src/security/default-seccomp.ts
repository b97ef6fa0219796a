// mycr's default seccomp profile, in docker's profile format so that the same
// conversion serves it and a user's --security-opt seccomp=FILE. It is an allowlist:
// any system call not named here fails with EPERM. Its effect matches docker's default
// profile: ordinary programs run; the calls that reach past the container's namespaces
// (kernel modules, mounts, new namespaces, keyrings, kexec, clock setting, BPF, perf,
// ptrace of the kernel's view ...) stay closed unless the container holds the
// capability that would make them legitimate, as with docker.
//
// The lists are grouped by what the calls are for, so a reviewer can see what a
// container may do. Names a kernel or architecture does not have are skipped at load.
import type { DockerProfile, DockerSyscall } from "./docker-profile";

const ALLOW = "SCMP_ACT_ALLOW";

/** Files, directories, links, extended attributes, file systems as seen by a process. */
const FILES = [
  "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat", "fchmodat2",
  "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "creat", "open", "openat", "openat2",
  "close", "close_range", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev",
  "pwritev2", "lseek", "_llseek", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "fsync", "fdatasync", "sync",
  "syncfs", "sync_file_range", "fadvise64", "fadvise64_64", "readahead", "fallocate", "truncate", "truncate64",
  "ftruncate", "ftruncate64", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat",
  "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "getdents", "getdents64", "mkdir", "mkdirat", "rmdir",
  "mknod", "mknodat", "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat", "unlink", "unlinkat",
  "rename", "renameat", "renameat2", "umask", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
  "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr",
  "flistxattr", "removexattr", "lremovexattr", "fremovexattr", "copy_file_range", "sendfile", "sendfile64",
  "splice", "tee", "vmsplice", "ioctl", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
  "fanotify_mark", "cachestat",
];

/** Waiting on many descriptors, events, timers as descriptors. */
const EVENTS = [
  "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64", "epoll_create",
  "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
  "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime", "timerfd_settime64",
  "timerfd_gettime", "timerfd_gettime64", "pipe", "pipe2",
];

/** Asynchronous I/O (io_uring stays closed, as in docker since 25.0). */
const AIO = ["io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64"];

/** Memory of one's own process. */
const MEMORY = [
  "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2",
  "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier", "memfd_create", "memfd_secret",
  "pkey_alloc", "pkey_free", "pkey_mprotect", "map_shadow_stack",
];

/** Processes and threads: creating (clone is below, filtered), waiting, identities, limits. */
const PROCESSES = [
  "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid", "kill", "tkill",
  "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease", "getpid", "getppid", "gettid", "getpgid",
  "setpgid", "getpgrp", "getsid", "setsid", "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32",
  "getegid", "getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
  "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32", "setresuid",
  "setresuid32", "setresgid", "setresgid32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "setgroups",
  "setgroups32", "capget", "capset", "prctl", "seccomp", "getrlimit", "ugetrlimit", "setrlimit", "prlimit64",
  "getrusage", "getpriority", "setpriority", "ioprio_get", "ioprio_set", "sched_yield", "sched_getaffinity",
  "sched_setaffinity", "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam",
  "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
  "sched_rr_get_interval", "sched_rr_get_interval_time64", "getcpu", "set_tid_address", "set_robust_list",
  "get_robust_list", "rseq", "get_thread_area", "set_thread_area", "restart_syscall", "uname", "sysinfo",
  "getrandom", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
];

/** Signals. */
const SIGNALS = [
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask", "sigreturn",
  "pause",
];

/** Reading clocks and sleeping (setting clocks needs CAP_SYS_TIME, below). */
const TIME = [
  "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
  "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "adjtimex", "clock_adjtime", "clock_adjtime64",
  "alarm", "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
  "timer_gettime64", "timer_settime", "timer_settime64", "times", "futex", "futex_time64", "futex_waitv",
  "futex_wait", "futex_wake", "futex_requeue",
];

/** Sockets (socket itself is below, filtered) and System V / POSIX IPC, all namespaced. */
const COMMUNICATION = [
  "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername", "getsockopt",
  "setsockopt", "shutdown", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
  "recvmmsg_time64", "socketcall", "ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop",
  "semtimedop", "semtimedop_time64", "semctl", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink",
  "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64", "mq_notify",
  "mq_getsetattr",
];

/** Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const AF_VSOCK = 40;

const allow = (names: string[], more: Partial<DockerSyscall> = {}): DockerSyscall => ({ names, action: ALLOW, ...more });
const withCap = (cap: string, names: string[]): DockerSyscall => allow(names, { includes: { caps: [cap] } });

const SYSCALLS: DockerSyscall[] = [
  allow([...FILES, ...EVENTS, ...AIO, ...MEMORY, ...PROCESSES, ...SIGNALS, ...TIME, ...COMMUNICATION]),

  // Sockets of every family but vsock, which talks to the hypervisor, not the container's network.
  allow(["socket"], { args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_NE" }] }),

  // personality: only the harmless personas (Linux, 32-bit Linux, uname 2.6, their mix) and the query.
  ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((persona) =>
    allow(["personality"], { args: [{ index: 0, value: persona, op: "SCMP_CMP_EQ" }] }),
  ),

  // Inspecting other processes is confined by the PID namespace and ptrace's own checks (kernel 4.8+).
  allow(["ptrace", "process_vm_readv", "process_vm_writev"], { includes: { minKernel: "4.8" } }),

  // Threads and fork without new namespaces. s390 swaps clone's first two arguments.
  allow(["clone"], {
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
  }),
  allow(["clone"], {
    args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    includes: { arches: ["s390", "s390x"] },
    excludes: { caps: ["CAP_SYS_ADMIN"] },
  }),
  // clone3 passes its flags in memory, which seccomp cannot read: answer ENOSYS so libc falls back to clone.
  { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38, excludes: { caps: ["CAP_SYS_ADMIN"] } },

  // Calls that exist on some architectures only.
  allow(["arch_prctl", "modify_ldt"], { includes: { arches: ["amd64", "x32", "x86"] } }),
  allow(["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"], {
    includes: { arches: ["arm", "arm64"] },
  }),
  allow(["sync_file_range2", "swapcontext"], { includes: { arches: ["ppc64le"] } }),
  allow(["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], { includes: { arches: ["s390", "s390x"] } }),
  allow(["riscv_flush_icache"], { includes: { arches: ["riscv64"] } }),

  // What a capability makes legitimate opens the calls that use it.
  withCap("CAP_SYS_ADMIN", [
    "clone", "clone3", "unshare", "setns", "mount", "mount_setattr", "umount", "umount2", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "pivot_root", "sethostname", "setdomainname", "name_to_handle_at",
    "fanotify_init", "lookup_dcookie", "quotactl", "quotactl_fd", "bpf", "perf_event_open", "syslog",
  ]),
  withCap("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
  withCap("CAP_SYS_BOOT", ["reboot"]),
  withCap("CAP_SYS_CHROOT", ["chroot"]),
  withCap("CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]),
  withCap("CAP_SYS_PACCT", ["acct"]),
  withCap("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
  withCap("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
  withCap("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
  withCap("CAP_SYS_TTY_CONFIG", ["vhangup"]),
  withCap("CAP_SYS_NICE", ["get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind", "move_pages"]),
  withCap("CAP_SYSLOG", ["syslog"]),
  withCap("CAP_BPF", ["bpf"]),
  withCap("CAP_PERFMON", ["perf_event_open"]),
];

export const DEFAULT_SECCOMP_PROFILE: DockerProfile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1, // EPERM: what a program would see without the privilege
  archMap: [
    { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
  ],
  syscalls: SYSCALLS,
};
