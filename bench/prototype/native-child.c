/* Prototype (issue 17): the container's first process as C only, no Bun start-up.
 * Called from the Bun parent's JS thread after it unshared and prepared the mounts and
 * pivot_root on that thread: a fork-like clone (the child copies only this thread), the
 * child mounts /proc (it is PID 1 of the new PID namespace), tells the parent, waits for
 * "go", drops to the prepared credentials, loads the seccomp program and execs.
 * No headers: TinyCC in bun:ffi has no libc headers without libc6-dev. x86_64 numbers. */
long syscall(long n, ...);

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_clone 56
#define SYS_execve 59
#define SYS_exit_group 231
#define SYS_prctl 157
#define SYS_seccomp 317
#define SYS_setsid 112
#define SYS_setgroups 116
#define SYS_setresgid 119
#define SYS_setresuid 117
#define SYS_capset 126
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SIGCHLD 17
#define FSCONFIG_CMD_CREATE 6
#define MOVE_MOUNT_F_EMPTY_PATH 4
#define PR_SET_NO_NEW_PRIVS 38
#define AT_FDCWD -100

struct sock_fprog { unsigned short len; void *filter; };

static void fail(int fd, int step) {
  unsigned char b = (unsigned char)step;
  syscall(SYS_write, fd, &b, 1);
  syscall(SYS_exit_group, 125);
}

/* The child's part, C only from clone to execve. */
struct child_args { int report, go, report_r, go_w; const char *path; char **argv, **envp; void *bpf; int bpf_len; };
static int child_main(void *p) {
  struct child_args *a = p;
  int report = a->report;
  /* the parent's ends of the pipes are not ours */
  syscall(SYS_close, a->report_r);
  syscall(SYS_close, a->go_w);
  syscall(SYS_setsid);
  int fs = syscall(SYS_fsopen, "proc", 1 /* FSOPEN_CLOEXEC */);
  if (fs < 0) fail(report, 1);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0) < 0) fail(report, 2);
  int mnt = syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0x2 | 0x4 | 0x8 /* nosuid nodev noexec */);
  if (mnt < 0) fail(report, 3);
  if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/proc", MOVE_MOUNT_F_EMPTY_PATH) < 0) fail(report, 4);
  syscall(SYS_close, mnt);
  syscall(SYS_close, fs);
  unsigned char b = 0;
  syscall(SYS_write, report, &b, 1);
  if (syscall(SYS_read, a->go, &b, 1) != 1) syscall(SYS_exit_group, 125);
  if (syscall(SYS_setgroups, 0, 0) < 0) fail(report, 5);
  if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(report, 6);
  if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(report, 7);
  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(report, 8);
  if (a->bpf_len > 0) {
    struct sock_fprog prog;
    prog.len = (unsigned short)a->bpf_len;
    prog.filter = a->bpf;
    if (syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, &prog) < 0) fail(report, 9);
  }
  syscall(SYS_execve, a->path, a->argv, a->envp);
  fail(report, 10);
  return 0;
}

int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);
static char child_stack[64 * 1024] __attribute__((aligned(16)));
static struct child_args args;

/* Returns the child's pid (or < 0). shared: CLONE_VM, no copy of the runtime's page
 * tables (the userns session measured ~40 ms saved under load); the child runs on its
 * own stack and execs, and we do not touch args until it reported. */
long spawn_child(int report, int go, int report_r, int go_w, const char *path, char **argv, char **envp, void *bpf, int bpf_len, int shared) {
  args.report = report; args.go = go; args.report_r = report_r; args.go_w = go_w;
  args.path = path; args.argv = argv; args.envp = envp; args.bpf = bpf; args.bpf_len = bpf_len;
  if (!shared) {
    long pid = syscall(SYS_clone, 0x20000000 /* CLONE_NEWPID */ | SIGCHLD, 0, 0, 0, 0);
    if (pid != 0) return pid;
    child_main(&args);
    return 0;
  }
  return clone(child_main, child_stack + sizeof child_stack, 0x20000000 /* CLONE_NEWPID */ | 0x100 /* CLONE_VM */ | SIGCHLD, &args);
}

/* pivot_root(".", ".") of the calling thread's cwd, then the old root detached. */
int switch_root(void) {
  if (syscall(155, ".", ".") < 0) return -1;
  if (syscall(166, ".", 2 /* MNT_DETACH */) < 0) return -2;
  if (syscall(80, "/") < 0) return -3;
  return 0;
}

/* The whole window in C: no JavaScript runs while this thread is in the container's
 * namespaces, so Bun cannot start a thread that shares its fs struct there (which makes
 * setns back fail and leaves that thread in the container's root). ops: 6 words each
 * (source, target, fstype, flags, data, optional); mask ops run after the child mounted
 * /proc. saved: mnt, uts, ipc, net fds of the host; procs: cgroup.procs fds. */
struct op { const char *src, *dst, *type; unsigned long flags; const char *data; long optional; };
long syscall(long n, ...);
static int run_ops(struct op *ops, int n) {
  for (int i = 0; i < n; i++) {
    if (ops[i].type && ops[i].type[0] == '!') { /* "!dir" / "!file": a mount point on a fresh tmpfs */
      long fd = ops[i].type[1] == 'd' ? syscall(83, ops[i].dst, 0755) : syscall(2, ops[i].dst, 0100 | 01 | 02000000, 0644);
      if (fd < 0) return -100 - i;
      if (ops[i].type[1] != 'd') syscall(3, fd);
      continue;
    }
    if (syscall(165, ops[i].src, ops[i].dst, ops[i].type, ops[i].flags, ops[i].data) < 0 && !ops[i].optional) return -100 - i;
  }
  return 0;
}
static int utoa(long v, char *buf) {
  char tmp[24]; int n = 0, len = 0;
  do { tmp[n++] = '0' + v % 10; v /= 10; } while (v);
  while (n) buf[len++] = tmp[--n];
  return len;
}
long enter_and_spawn(int *saved, int nsaved, int cwd, const char *rootfs, const char *hostname, int hostlen,
                     struct op *mounts, int nmounts, struct op *masks, int nmasks, int *procs, int nprocs,
                     int *pipes, const char *path, char **argv, char **envp, void *bpf, int bpf_len, int shared) {
  long r = 0, pid = 0;
  if (syscall(272, 0x20000 | 0x4000000 | 0x8000000 | 0x40000000) < 0) return -1; /* unshare NS|UTS|IPC|NET */
  if ((r = run_ops(mounts, nmounts)) < 0) goto back;
  if (syscall(80, rootfs) < 0) { r = -2; goto back; }
  if ((r = switch_root()) < 0) goto back;
  if (syscall(170, hostname, hostlen) < 0) { r = -3; goto back; }
  pid = spawn_child(pipes[1], pipes[2], pipes[0], pipes[3], path, argv, envp, bpf, bpf_len, shared);
  if (pid < 0) { r = -4; goto back; }
  char num[24]; int len = utoa(pid, num);
  for (int i = 0; i < nprocs; i++) syscall(1, procs[i], num, len);
  unsigned char b = 1;
  if (syscall(0, pipes[0], &b, 1) != 1 || b != 0) { r = -5; goto back; }
  if ((r = run_ops(masks, nmasks)) < 0) goto back;
  syscall(1, pipes[3], &b, 1);
  r = pid;
back:
  for (int i = 0; i < nsaved; i++) if (syscall(308, saved[i], 0) < 0) r = -6;
  syscall(81, cwd);
  return r;
}
