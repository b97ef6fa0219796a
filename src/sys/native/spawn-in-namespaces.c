/*
 * The only C in mycr: a child for a multithreaded runtime that needs a single-threaded
 * process for a moment. Linux refuses unshare(CLONE_NEWUSER) and setns() into a user or
 * time namespace to a multithreaded caller, and Bun is multithreaded from its first line.
 * A fork-like clone() is single-threaded, and this child runs only the code below (raw
 * system calls, no allocation, no locks) until it execve()s.
 *
 * Every decision is the caller's (src/sys/spawn-namespaced.ts): the clone flags, the
 * list of steps (join, unshare, stop until told to go on, fork again) and what to exec.
 * No header is included, so that Bun's TinyCC compiles this on hosts without libc
 * headers: the few prototypes and constants are declared here.
 */
long syscall(long number, ...);
long read(int fd, void *buf, unsigned long count);
long write(int fd, const void *buf, unsigned long count);
int close(int fd);
int dup3(int oldfd, int newfd, int flags);
int fcntl(int fd, int cmd, ...);
int setns(int fd, int nstype);
int unshare(int flags);
int execve(const char *path, char *const argv[], char *const envp[]);
void _exit(int status);
int *__errno_location(void);
void *signal(int sig, void *handler);
int sigprocmask(int how, const void *set, void *old);
int setresuid(unsigned ruid, unsigned euid, unsigned suid);
int setresgid(unsigned rgid, unsigned egid, unsigned sgid);
int setgroups(unsigned long size, const unsigned *list);
int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);

#define SIGCHLD 17
#define CLONE_PARENT 0x00008000
#define F_DUPFD_CLOEXEC 1030
#define SIG_SETMASK 2

/* Steps (the caller's program for the child). */
#define STEP_SETNS 1   /* a: fd, b: nstype */
#define STEP_UNSHARE 2 /* a: flags */
#define STEP_SYNC 3    /* report, then wait for one byte from the caller */
#define STEP_FORK 4    /* clone a sibling (CLONE_PARENT) that goes on; report its pid; exit */
#define STEP_SETID 5   /* a: uid, b: gid (setresgid, setresuid): become an id of a new user namespace */
#define STEP_NOGROUPS 6 /* setgroups(0, NULL): drop the supplementary groups */
#define STEP_EXIT 7    /* _exit(0) instead of execve: the child only had to exist (to hold a namespace) */

/* Reports (16 bytes each) on the sync socket. */
#define REPORT_SYNC 1
#define REPORT_FORKED 2
#define REPORT_ERROR 3

/*
 * The request, 64-bit words: [0] clone flags, [1] clone's syscall number, [2] the child's
 * end of the sync socket, [3] the caller's end (closed in the child), [4] path, [5] argv,
 * [6] envp, [7] number of fds, [8] number of steps; then the fds (the child's 0, 1, ...)
 * and the steps, three words each (op, a, b).
 */
static void report(int sync, int kind, int step, int value) {
  int msg[4];
  msg[0] = kind;
  msg[1] = step;
  msg[2] = value;
  msg[3] = 0;
  write(sync, msg, sizeof msg);
}

static void fail(int sync, int step) {
  report(sync, REPORT_ERROR, step, *__errno_location());
  _exit(125);
}

/* Moves fds[i] to i for every i, then closes everything else. */
static void place_fds(int sync, long *fds, long count) {
  int high[64];
  long i;
  if (count > 64) fail(sync, -2);
  for (i = 0; i < count; i++) {
    high[i] = fcntl((int)fds[i], F_DUPFD_CLOEXEC, 100);
    if (high[i] < 0) fail(sync, -2);
  }
  for (i = 0; i < count; i++) {
    if (dup3(high[i], (int)i, 0) < 0) fail(sync, -2);
  }
}

static void reset_signals(void) {
  unsigned char empty[128];
  int sig;
  for (sig = 0; sig < 128; sig++) empty[sig] = 0;
  for (sig = 1; sig <= 64; sig++) {
    if (sig == 9 || sig == 19 || sig == 32 || sig == 33) continue;
    signal(sig, (void *)0); /* SIG_DFL: ignored signals stay ignored across execve otherwise */
  }
  sigprocmask(SIG_SETMASK, empty, (void *)0);
}

static int child(void *arg) {
  long *req = (long *)arg;
  int sync = fcntl((int)req[2], F_DUPFD_CLOEXEC, 100); /* out of the way of the fds placed below */
  long clone_nr = req[1];
  long nfds = req[7];
  long nsteps = req[8];
  long *fds = req + 9;
  long *steps = fds + nfds;
  long i;
  char go;
  if (sync < 0) _exit(125);
  close((int)req[3]); /* else our copy keeps the caller's end open: EOF would never come */
  for (i = 0; i < nsteps; i++) {
    long op = steps[3 * i], a = steps[3 * i + 1], b = steps[3 * i + 2];
    if (op == STEP_SETNS) {
      if (setns((int)a, (int)b) < 0) fail(sync, (int)i);
    } else if (op == STEP_UNSHARE) {
      if (unshare((int)a) < 0) fail(sync, (int)i);
    } else if (op == STEP_SYNC) {
      report(sync, REPORT_SYNC, (int)i, 0);
      if (read(sync, &go, 1) != 1) _exit(125); /* the caller is gone or gave up */
    } else if (op == STEP_SETID) {
      if (setresgid((unsigned)b, (unsigned)b, (unsigned)b) < 0) fail(sync, (int)i);
      if (setresuid((unsigned)a, (unsigned)a, (unsigned)a) < 0) fail(sync, (int)i);
    } else if (op == STEP_NOGROUPS) {
      if (setgroups(0, (const unsigned *)0) < 0) fail(sync, (int)i);
    } else if (op == STEP_EXIT) {
      _exit(0);
    } else if (op == STEP_FORK) {
      long pid = syscall(clone_nr, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
      if (pid < 0) fail(sync, (int)i);
      if (pid > 0) {
        report(sync, REPORT_FORKED, (int)i, (int)pid);
        _exit(0);
      }
    }
  }
  reset_signals();
  place_fds(sync, fds, nfds);
  /* close_range(CLOEXEC): nothing else of the runtime's crosses execve, the sync socket
     included, whose EOF tells the caller that execve worked. */
  syscall(436, (long)nfds, (long)~0U, 4L);
  execve((const char *)req[4], (char *const *)req[5], (char *const *)req[6]);
  report(sync, REPORT_ERROR, -1, *__errno_location());
  _exit(127);
  return 0;
}

/*
 * The child runs on this stack of its own. With CLONE_VM in the caller's flags it shares
 * our memory (as posix_spawn's child does) instead of copying Bun's page tables, which
 * costs tens of milliseconds; it touches nothing of ours but errno then, and never while
 * we run: we wait on the socket while it works, it waits on the socket while we do.
 * One spawn at a time (the caller is synchronous), so one stack is enough.
 */
static char stack[256 * 1024] __attribute__((aligned(16)));

/* Returns the child's pid, or -errno. */
long mycr_spawn_in_namespaces(long *req) {
  long pid = clone(child, stack + sizeof stack, (int)(req[0] | SIGCHLD), req);
  if (pid < 0) return -*__errno_location();
  return pid;
}
