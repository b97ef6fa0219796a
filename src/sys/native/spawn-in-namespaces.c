/*
 * The only C in mycr: a child for a multithreaded runtime that needs a single-threaded
 * process for a moment, and the native init (MYCR_INIT=native, docs/performance.md): the
 * same child with more steps (mounts resolved in the root, pivot_root, credentials,
 * capabilities, seccomp) and a window around its clone that runs on the caller's thread. Linux refuses unshare(CLONE_NEWUSER) and setns() into a user or
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
int kill(int pid, int sig);
int setresuid(unsigned ruid, unsigned euid, unsigned suid);
int setresgid(unsigned rgid, unsigned egid, unsigned sgid);
int setgroups(unsigned long size, const unsigned *list);
int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);
int mount(const char *src, const char *target, const char *type, unsigned long flags, const void *data);
int umount2(const char *target, int flags);
int open(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int mkdirat(int dirfd, const char *path, unsigned mode);
int mknodat(int dirfd, const char *path, unsigned mode, unsigned long dev);
int symlinkat(const char *target, int dirfd, const char *path);
int fchownat(int dirfd, const char *path, unsigned uid, unsigned gid, int flags);
int statx(int dirfd, const char *path, int flags, unsigned mask, void *buf);
int faccessat(int dirfd, const char *path, int mode, int flags);
long readlinkat(int dirfd, const char *path, char *buf, unsigned long size);
int chdir(const char *path);
int fchdir(int fd);
char *getcwd(char *buf, unsigned long size);
int sethostname(const char *name, unsigned long len);
int setdomainname(const char *name, unsigned long len);
int prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d);
int capset(void *header, void *data);
unsigned umask(unsigned mask);
int setsid(void);
int socket(int domain, int type, int protocol);
int ioctl(int fd, unsigned long request, ...);
int setrlimit(int resource, const void *limit);
void *mmap(void *addr, unsigned long length, int prot, int flags, int fd, long offset);

#define SIGCHLD 17
#define CLONE_VM 0x00000100
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
/* The native init's steps; `a` points at the step's words where it needs more than two. */
#define STEP_MOUNT 8      /* a: [source, target, fstype, flags, data]: mount(2) as given */
#define STEP_MOUNT_IN 9   /* a: [source, root, path, fstype, flags, data, kind]: onto path resolved in root (below) */
#define STEP_MKNOD_IN 10  /* a: [root, dir, name, mode, dev, uid, gid, host path to bind if mknod is refused, skip if present] */
#define STEP_SYMLINK_IN 11 /* a: [root, dir, name, target]: unless name exists */
#define STEP_PIVOT 12     /* a: new root: pivot_root(".", "."), the old root detached */
#define STEP_HOSTNAME 13  /* a: name, b: length */
#define STEP_DOMAINNAME 14 /* a: name, b: length */
#define STEP_LOOPBACK_UP 15 /* lo up in the new network namespace */
#define STEP_MKDIR 16     /* a: path (EEXIST is fine) */
#define STEP_MASK 17      /* a: path: an empty read-only tmpfs over a directory, /dev/null over anything else */
#define STEP_READONLY 18  /* a: path: bound onto itself read-only */
#define STEP_KEYRING 19   /* a: name of a new session keyring to join */
#define STEP_CHDIR 20     /* a: path; b: 1 to check that it is inside our root */
#define STEP_BOUNDING 21  /* a: [keep mask, last capability]: drop the rest of the bounding set */
#define STEP_KEEPCAPS 22  /* a: 0 or 1 */
#define STEP_GROUPS 23    /* a: gids (u32), b: count */
#define STEP_DEATHSIG 24  /* a: signal sent to us when our parent dies */
#define STEP_CAPSET 25    /* a: header and data, as capset(2) takes them (v3) */
#define STEP_AMBIENT 26   /* a: capabilities (u32), b: count: the ambient set cleared, then these raised */
#define STEP_NNP 27       /* no_new_privs */
#define STEP_SECCOMP 28   /* a: struct sock_fprog, b: flags */
#define STEP_SETSID 29
#define STEP_UMASK 30     /* a: mask */
#define STEP_HOLD_IN 31   /* a: [root, path], b: slot: the directory (made if missing) held open as "@slot" for the child */
#define STEP_SYMLINK 33   /* a: [target, path] */
#define STEP_PTY_IN 34    /* a: [root, path of ptmx, rows, cols, out: master, out: peer]: a pty of the container's devpts */
#define STEP_CONSOLE 35   /* a: the words of a STEP_PTY_IN: its peer becomes our controlling terminal and fds 0-2, bound over /dev/console */
#define STEP_CTTY 36      /* a: a terminal's fd: our controlling terminal and fds 0-2 (exec: the container's /dev/console stays) */
#define STEP_EXEC_VIA 37  /* a: [NULL-terminated candidates, stub fd, execveat's number], b: explicit: as EXEC_FIRST, through the stub (below) */
#define STEP_RLIMIT 38    /* a: [resource, soft, hard]: setrlimit */
#define STEP_WAIT_START 39 /* a: [exec fifo fd (O_PATH), candidates, explicit]: `create`'s end (wait_for_start) */
#define STEP_NOT_DUMPABLE 40 /* PR_SET_DUMPABLE 0: our /proc entries (fds) are no one else's while we wait */
#define STEP_OWN_PROC 41   /* a procfs of our PID namespace, detached (fsopen/fsmount), kept for wait_for_start */
#define STEP_EXEC_FIRST 32 /* a: NULL-terminated candidates: the first that exists is exec'd (execvp's search) */

/* Reports (16 bytes each) on the sync socket. */
#define REPORT_SYNC 1
#define REPORT_FORKED 2
#define REPORT_ERROR 3
#define REPORT_WAITING 4 /* set up, waiting for `start`: the caller returns; we close the socket */

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
    /* above the targets, and low: process.rlimits may have lowered RLIMIT_NOFILE by now */
    high[i] = fcntl((int)fds[i], F_DUPFD_CLOEXEC, (int)count);
    if (high[i] < 0) fail(sync, -2);
  }
  for (i = 0; i < count; i++) {
    if (dup3(high[i], (int)i, 0) < 0) fail(sync, -2);
  }
}

static void default_handlers(void) {
  int sig;
  for (sig = 1; sig <= 64; sig++) {
    if (sig == 9 || sig == 19 || sig == 32 || sig == 33) continue;
    signal(sig, (void *)0); /* SIG_DFL: ignored signals stay ignored across execve otherwise */
  }
}

static void reset_signals(void) {
  unsigned char empty[128];
  int sig;
  for (sig = 0; sig < 128; sig++) empty[sig] = 0;
  default_handlers();
  sigprocmask(SIG_SETMASK, empty, (void *)0);
}

/* Numbers and flags that differ between architectures, from the caller (sys/arch.ts). */
static long nr_pivot_root, nr_seccomp, nr_keyctl, nr_openat2, nr_close_range, o_directory, o_nofollow;

#define O_WRONLY 1
#define O_CREAT 0100
#define O_EXCL 0200
#define O_CLOEXEC 02000000
#define O_PATH 010000000
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define AT_SYMLINK_NOFOLLOW 0x100
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_REC 16384
#define MS_SLAVE (1 << 19)
#define MNT_DETACH 2
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFLNK 0120000
#define EPERM 1
#define ENOENT 2
#define EACCES 13
#define EEXIST 17
#define ENOTDIR 20
#define ELOOP 40
#define ENAMETOOLONG 36

static int set_errno(int e) {
  *__errno_location() = e;
  return -1;
}

/* The file type of an fd (statx: one layout on every architecture). */
static int file_type(int fd) {
  unsigned char buf[256];
  if (statx(fd, "", AT_EMPTY_PATH, 1 /* STATX_TYPE */, buf) < 0) return -1;
  return (*(unsigned short *)(buf + 0x1c)) & S_IFMT;
}

static long open_beneath(int root, const char *path) {
  unsigned long how[3];
  how[0] = O_PATH | O_CLOEXEC;
  how[1] = 0;
  how[2] = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return syscall(nr_openat2, root, path, how, sizeof how);
}

/*
 * An O_PATH fd of `path` inside the directory `rootpath`, every symlink resolved by the
 * kernel as if the root were "/" (RESOLVE_IN_ROOT), as rootfs/paths.ts does. kind 0: a
 * directory, created if missing; 1: a file, created if missing; 2: a directory that must
 * exist. What is missing is made one component at a time, each opened with O_NOFOLLOW
 * from its parent's fd, so what is mounted on is exactly what was checked; a dangling
 * symlink met on the way is followed (inside the root: the walk restarts from it).
 */
static int open_in_root(const char *rootpath, const char *path, int kind) {
  char cur[4096], next[4096], target[4096];
  int root, parent = -1, i, len, links = 0;
  long fd;
  root = open(rootpath, O_PATH | o_directory | O_CLOEXEC);
  if (root < 0) return -1;
  fd = open_beneath(root, path[0] ? path : ".");
  if (fd < 0 && *__errno_location() == ENOENT && kind != 2) {
    for (len = 0; path[len]; len++) if (len >= (int)sizeof cur - 1) { close(root); return set_errno(ENAMETOOLONG); }
    for (i = 0; i <= len; i++) cur[i] = path[i];
  restart:
    parent = openat(root, ".", O_PATH | O_CLOEXEC);
    fd = parent;
    for (len = 0; cur[len]; len++) {}
    for (i = 0; parent >= 0 && i < len;) {
      int end = i, last, made, n, j, k;
      const char *name = cur + i;
      while (end < len && cur[end] != '/') end++;
      if (end == i) { i++; continue; } /* "//" */
      last = end == len;
      cur[end] = 0;
      fd = open_beneath(root, cur);
      if (fd < 0 && *__errno_location() == ENOENT) {
        long link = openat(parent, name, O_PATH | o_nofollow | O_CLOEXEC);
        if (link >= 0 && file_type((int)link) == S_IFLNK) {
          n = (int)readlinkat((int)link, "", target, sizeof target - 1);
          close((int)link);
          if (n < 0 || ++links > 40) { fd = n < 0 ? -1 : set_errno(ELOOP); goto done; }
          target[n] = 0;
          /* the link's target, then what followed it: resolved again from the root */
          k = 0;
          if (target[0] != '/') for (j = 0; j < i && k < (int)sizeof next - 1; j++) next[k++] = cur[j];
          for (j = 0; j < n && k < (int)sizeof next - 1; j++) next[k++] = target[j];
          if (!last) for (j = end; j < len && k < (int)sizeof next - 1; j++) next[k++] = j == end ? '/' : cur[j];
          if (k >= (int)sizeof next - 1) { fd = set_errno(ENAMETOOLONG); goto done; }
          next[k] = 0;
          for (j = 0; j <= k; j++) cur[j] = next[j];
          close(parent);
          goto restart;
        }
        if (link >= 0) close((int)link);
        made = last && kind == 1 ? openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | o_nofollow | O_CLOEXEC, 0644) : mkdirat(parent, name, 0755);
        if (made < 0 && *__errno_location() != EEXIST) fd = -1;
        else {
          if (last && kind == 1 && made >= 0) close(made);
          fd = openat(parent, name, O_PATH | o_nofollow | O_CLOEXEC);
          if (fd >= 0 && !last && file_type((int)fd) != S_IFDIR) {
            close((int)fd);
            fd = set_errno(ENOTDIR);
          }
        }
      }
      if (!last) cur[end] = '/';
      close(parent);
      parent = (int)fd;
      i = end + 1;
    }
  }
done:
  if (parent >= 0 && parent != fd) close(parent);
  close(root);
  if (fd < 0) return -1;
  i = file_type((int)fd);
  if ((kind != 1 && i != S_IFDIR) || i == S_IFLNK || i < 0) {
    close((int)fd);
    return set_errno(i == S_IFLNK ? ELOOP : ENOTDIR);
  }
  return (int)fd;
}

/* "/proc/self/fd/N": the fd as a path mount(2) takes, valid while the host's /proc is ours. */
static void fd_path(int fd, char *out) {
  const char *prefix = "/proc/self/fd/";
  char digits[16];
  int n = 0, i = 0;
  while (prefix[i]) { out[i] = prefix[i]; i++; }
  do { digits[n++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0);
  while (n > 0) out[i++] = digits[--n];
  out[i] = 0;
}

static int mount_in(const char *source, const char *root, const char *path, const char *type, unsigned long flags, const char *data, int kind) {
  char target[32];
  int fd = open_in_root(root, path, kind), r;
  if (fd < 0) return -1;
  fd_path(fd, target);
  r = mount(source, target, type, flags, data);
  close(fd);
  return r;
}

static int mknod_in(long *w) {
  const char *root = (const char *)w[0], *dir = (const char *)w[1], *name = (const char *)w[2], *host = (const char *)w[7];
  char target[32];
  int parent = open_in_root(root, dir, 0), r, fd;
  if (parent < 0) return -1;
  r = mknodat(parent, name, (unsigned)w[3], (unsigned long)w[4]);
  if (r < 0 && *__errno_location() == EEXIST && w[8]) r = 0;
  else if (r == 0) r = fchownat(parent, name, (unsigned)w[5], (unsigned)w[6], AT_SYMLINK_NOFOLLOW);
  else if (*__errno_location() == EPERM && host) {
    /* not allowed to make devices (e.g. in a user namespace): the host's, bound */
    fd = openat(parent, name, O_CREAT | O_WRONLY | o_nofollow | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    fd = openat(parent, name, O_PATH | o_nofollow | O_CLOEXEC);
    r = -1;
    if (fd >= 0) {
      fd_path(fd, target);
      r = mount(host, target, (const char *)0, MS_BIND, (const void *)0);
      close(fd);
    }
  }
  close(parent);
  return r;
}

static int symlink_in(long *w) {
  int parent = open_in_root((const char *)w[0], (const char *)w[1], 0), r;
  if (parent < 0) return -1;
  r = symlinkat((const char *)w[3], parent, (const char *)w[2]);
  if (r < 0 && *__errno_location() == EEXIST) r = 0;
  close(parent);
  return r;
}

static int pivot(const char *root) {
  if (chdir(root) < 0) return -1;
  if (syscall(nr_pivot_root, ".", ".") < 0) return -1;
  /* unmounting the old root must not propagate back to the host */
  if (mount((const char *)0, ".", (const char *)0, MS_SLAVE | MS_REC, (const void *)0) < 0) return -1;
  if (umount2(".", MNT_DETACH) < 0) return -1;
  return chdir("/");
}

static int loopback_up(void) {
  struct { char name[16]; short flags; char pad[22]; } ifr;
  int i, fd = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0), r;
  if (fd < 0) return -1;
  for (i = 0; i < (int)sizeof ifr; i++) ((char *)&ifr)[i] = 0;
  ifr.name[0] = 'l';
  ifr.name[1] = 'o';
  r = ioctl(fd, 0x8913 /* SIOCGIFFLAGS */, &ifr);
  if (r == 0) {
    ifr.flags |= 1; /* IFF_UP */
    r = ioctl(fd, 0x8914 /* SIOCSIFFLAGS */, &ifr);
  }
  close(fd);
  return r;
}

/* Whether something is at `path` (not following a last symlink, as lstat). */
static int present(const char *path) {
  int fd = open(path, O_PATH | o_nofollow | O_CLOEXEC);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

static int mask(const char *path) {
  int fd = open(path, O_PATH | o_nofollow | o_directory | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return mount("tmpfs", path, "tmpfs", MS_RDONLY, (const void *)0);
  }
  if (*__errno_location() == ENOENT) return 0;
  return mount("/dev/null", path, (const char *)0, MS_BIND, (const void *)0);
}

static int readonly(const char *path) {
  if (!present(path)) return 0;
  if (mount(path, path, (const char *)0, MS_BIND | MS_REC, (const void *)0) < 0) return -1;
  if (mount((const char *)0, path, (const char *)0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, (const void *)0) == 0) return 0;
  if (*__errno_location() != EPERM) return -1;
  return mount((const char *)0, path, (const char *)0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, (const void *)0);
}

static int check_cwd(void) {
  char where[4096];
  /* CVE-2024-21626: a cwd reached through an fd outside our root is "(unreachable)" */
  if (!getcwd(where, sizeof where) || where[0] != '/') return set_errno(18 /* EXDEV: told apart from chdir's own errors */);
  return 0;
}

static int drop_bounding(long *w) {
  unsigned long keep = (unsigned long)w[0];
  long cap;
  for (cap = 0; cap <= w[1]; cap++) {
    if (keep & (1UL << cap)) continue;
    if (prctl(24 /* PR_CAPBSET_DROP */, (unsigned long)cap, 0, 0, 0) < 0) return -1;
  }
  return 0;
}

static int ambient(unsigned *caps, long count) {
  long i;
  if (prctl(47 /* PR_CAP_AMBIENT */, 4 /* CLEAR_ALL */, 0, 0, 0) < 0) return -1;
  for (i = 0; i < count; i++) if (prctl(47, 2 /* RAISE */, caps[i], 0, 0) < 0) return -1;
  return 0;
}

/*
 * execvp's search over candidates the caller listed (lookpath.ts's rules): what does not
 * exist, and directories met in a search of PATH, are skipped; a candidate execve
 * refuses with EACCES is remembered while the search goes on. errno tells the caller
 * what happened: ENOENT nothing found, EISDIR a directory named, EACCES not executable,
 * ELIBACC found but its interpreter is missing.
 */
/*
 * The next candidate from *i on that exists and is not a directory (a search of PATH
 * skips those), or NULL: errno EISDIR when the one named explicitly is a directory, 0
 * when none is left.
 */
static char *next_candidate(char **candidates, int *i, long explicit) {
  int dir;
  for (; candidates[*i]; (*i)++) {
    if (faccessat(AT_FDCWD, candidates[*i], 0 /* F_OK */, 0) < 0) continue;
    dir = open(candidates[*i], O_PATH | o_directory | O_CLOEXEC);
    if (dir < 0) return candidates[(*i)++];
    close(dir);
    if (explicit) {
      set_errno(21 /* EISDIR */);
      return (char *)0;
    }
  }
  set_errno(0);
  return (char *)0;
}

static int exec_first(long *req, char **candidates, long explicit) {
  int i = 0, denied = 0;
  char *path;
  while ((path = next_candidate(candidates, &i, explicit))) {
    execve(path, (char *const *)req[5], (char *const *)req[6]);
    if (*__errno_location() == EACCES) { denied = 1; continue; }
    if (*__errno_location() == ENOENT) return set_errno(79 /* ELIBACC */);
    return -1;
  }
  if (*__errno_location() != 0) return -1;
  return set_errno(denied ? EACCES : ENOENT);
}

/* The child's end of the sync socket (its number in the child). */
static int sync_fd = -1;

/*
 * exec_first's search, the program then started by a stub of the caller's (a sealed,
 * static executable: src/sys/exec-stub.ts) that execs it in turn. Our own /proc/self/exe
 * is the runtime's binary, the host's file: a program that is (or whose interpreter
 * line leads to) /proc/self/exe would run it in the container, which could then write
 * to it (CVE-2019-5736); from the stub it runs the stub. The search decides with
 * faccessat(X_OK) what execve would refuse (EACCES); the stub reports execve's own
 * failure on fd 3, our sync socket, which it closes on success.
 */
static int exec_via(long *req, long *w, long explicit) {
  char **candidates = (char **)w[0], **argv = (char **)req[5], *args[1026], *path;
  int i = 0, n, denied = 0;
  for (n = 0; argv[n]; n++) if (n >= 1024) return set_errno(7 /* E2BIG */);
  while ((path = next_candidate(candidates, &i, explicit))) {
    if (faccessat(AT_FDCWD, path, 1 /* X_OK */, 0x200 /* AT_EACCESS */) < 0) {
      if (*__errno_location() == EACCES) { denied = 1; continue; }
      return -1;
    }
    args[0] = path;
    for (n = 0; argv[n]; n++) args[n + 1] = argv[n];
    args[n + 1] = (char *)0;
    if (dup3(sync_fd, 3, 0) < 0) return -1;
    syscall(w[2], (long)w[1], "", args, req[6], (long)AT_EMPTY_PATH);
    close(3);
    return -1;
  }
  if (*__errno_location() != 0) return -1;
  return set_errno(denied ? EACCES : ENOENT);
}

/*
 * Directories the window holds open for the child (STEP_HOLD_IN): a path "@N/rest" in a
 * child's step means rest inside held[N], reached through /proc/self/fd (the child's
 * own /proc by then), so what the window resolved is what the child mounts in, whatever
 * was mounted over its path since.
 */
static int held[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };

static const char *at_held(const char *path, char *out) {
  int slot, i;
  if (!path || path[0] != '@' || path[1] < '0' || path[1] > '7') return path;
  slot = path[1] - '0';
  fd_path(held[slot], out);
  for (i = 0; out[i]; i++) {}
  path += 2;
  while (*path && i < 4095) out[i++] = *path++;
  out[i] = 0;
  return out;
}

static int hold_in(long *w, long slot) {
  int fd;
  if (slot < 0 || slot > 7) return set_errno(22);
  fd = open_in_root((const char *)w[0], (const char *)w[1], 0);
  if (fd < 0) return -1;
  held[slot] = fd;
  return 0;
}

/*
 * The container's terminal, opened in the window through the container's own devpts
 * (its ptmx resolved in the root), so the program sees /dev/pts/N of its own instance;
 * the master stays with the caller, the peer is the child's (STEP_CONSOLE).
 */
static int pty_in(long *w) {
  unsigned short size[4];
  int unlock = 0, master, peer;
  master = open_in_root((const char *)w[0], (const char *)w[1], 1);
  if (master < 0) return -1;
  {
    char path[32];
    int fd;
    fd_path(master, path);
    fd = open(path, 2 /* O_RDWR */ | 0400 /* O_NOCTTY */ | O_CLOEXEC);
    close(master);
    master = fd;
  }
  if (master < 0) return -1;
  if (ioctl(master, 0x40045431 /* TIOCSPTLCK */, &unlock) < 0) { close(master); return -1; }
  if (w[2] > 0 && w[3] > 0) {
    size[0] = (unsigned short)w[2];
    size[1] = (unsigned short)w[3];
    size[2] = size[3] = 0;
    if (ioctl(master, 0x5414 /* TIOCSWINSZ */, size) < 0) { close(master); return -1; }
  }
  peer = ioctl(master, 0x5441 /* TIOCGPTPEER */, 2 /* O_RDWR */ | 0400 /* O_NOCTTY */ | O_CLOEXEC);
  if (peer < 0) { close(master); return -1; }
  w[4] = master;
  w[5] = peer;
  return 0;
}

static int controlling_terminal(int peer) {
  int i;
  if (ioctl(peer, 0x540E /* TIOCSCTTY */, 0) < 0) return -1;
  for (i = 0; i < 3; i++) if (dup3(peer, i, 0) < 0) return -1;
  return 0;
}

static int console(long *w) {
  char path[32];
  int peer = (int)w[5], fd;
  if (controlling_terminal(peer) < 0) return -1;
  /* /dev/console is the terminal too, as runc makes it */
  fd = open("/dev/console", O_CREAT | O_WRONLY | o_nofollow | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  fd_path(peer, path);
  return mount(path, "/dev/console", (const char *)0, MS_BIND, (const void *)0);
}

/*
 * exec_first's search without the execve: whether a candidate exists that is not a
 * directory (an explicit one that is fails with EISDIR) and that we may execute, so that
 * `create` reports a missing program as runc does, not the container after `start`.
 */
static int find_program(char **candidates, long explicit) {
  int i = 0, denied = 0;
  char *path;
  while ((path = next_candidate(candidates, &i, explicit))) {
    if (faccessat(AT_FDCWD, path, 1 /* X_OK */, 0x200 /* AT_EACCESS */) == 0) return 0;
    denied = 1;
  }
  if (*__errno_location() != 0) return -1;
  return set_errno(denied ? EACCES : ENOENT);
}

/*
 * A procfs of our own PID namespace, made while we may (CAP_SYS_ADMIN) and mounted
 * nowhere: wait_for_start reopens the exec fifo through it, so that no path of the
 * container's is looked up (its /proc may be the image's own directory, full of
 * symlinks, when the spec mounts none) and no fd of the host's reaches the container:
 * what it shows is the container's own processes, as its /proc does.
 */
static int own_proc = -1;

static int make_own_proc(void) {
  long fs = syscall(430 /* fsopen */, "proc", 1 /* FSOPEN_CLOEXEC */), mnt;
  if (fs < 0) return -1;
  if (syscall(431 /* fsconfig */, fs, 6 /* FSCONFIG_CMD_CREATE */, 0, 0, 0) < 0) { close((int)fs); return -1; }
  mnt = syscall(432 /* fsmount */, fs, 1 /* FSMOUNT_CLOEXEC */, 2 | 4 | 8 /* MOUNT_ATTR_NOSUID|NODEV|NOEXEC */);
  close((int)fs);
  if (mnt < 0) return -1;
  own_proc = (int)mnt;
  return 0;
}

/*
 * `create`'s end, runc's exec fifo protocol: everything is set up (mounts, root,
 * credentials, capabilities, no_new_privs; a seccomp filter that needs no_new_privs
 * comes after, as runc loads it), and opening the fifo for writing blocks until `start`
 * opens it for reading. The fifo is the O_PATH fd the caller opened in its state dir,
 * reopened as "self/fd/N" of own_proc. The caller has gone when we wake up: nobody is
 * told of a failure (the socket is closed).
 */
/*
 * While it waits, a signal whose default action ends a process ends us: as PID 1 of
 * its namespace the child would otherwise ignore every signal it has no handler for
 * (SIGTERM from `kill` included), where runc's and Bun's inits have handlers.
 * execve resets them.
 */
static void ended_by(int sig) {
  _exit(128 + sig);
}

static void end_on_signals(void) {
  unsigned char none[128];
  int sig;
  for (sig = 0; sig < 128; sig++) none[sig] = 0;
  for (sig = 1; sig <= 64; sig++) {
    /* KILL and STOP cannot be caught; CHLD, CONT, URG, WINCH are ignored by default; TSTP, TTIN, TTOU stop; 32, 33 are glibc's */
    if (sig == 9 || sig == 19 || sig == 17 || sig == 18 || sig == 23 || sig == 28 || sig == 20 || sig == 21 || sig == 22 || sig == 32 || sig == 33) continue;
    signal(sig, (void *)ended_by);
  }
  sigprocmask(SIG_SETMASK, none, (void *)0); /* blocked since the clone (Bun's handlers were ours then) */
}

static int wait_for_start(long *w, int *sync, int step, long *fds, long nfds, long *rest, long nrest) {
  char path[48];
  const char *prefix = "self/fd/";
  int i = 0, n = 0, fifo, number, fd, stub = -1;
  long k, *via = (long *)0;
  char digits[16];
  if (own_proc < 0) return set_errno(9 /* EBADF: no STEP_OWN_PROC before */);
  if (find_program((char **)w[1], w[2]) < 0) return -1;
  /* the caller exits after `create`: its death must not kill us from now on */
  if (prctl(1 /* PR_SET_PDEATHSIG */, 0, 0, 0, 0) < 0) return -1;
  /*
   * We may wait long: keep no fd of the runtime's (its namespaces, its cwd, the sync
   * socket...) but the program's, placed now (exec places them again, as they are), the
   * fifo and own_proc (close-on-exec).
   */
  fifo = fcntl((int)w[0], F_DUPFD_CLOEXEC, 200);
  own_proc = fcntl(own_proc, F_DUPFD_CLOEXEC, 200);
  if (fifo < 0 || own_proc < 0) return -1;
  /* the exec stub (STEP_EXEC_VIA, in our own copy of the steps) is kept too */
  for (k = 0; k < nrest; k++) if (rest[3 * k] == STEP_EXEC_VIA) via = (long *)rest[3 * k + 1];
  if (via && (stub = fcntl((int)via[1], F_DUPFD_CLOEXEC, 200)) < 0) return -1;
  place_fds(*sync, fds, nfds);
  for (k = 0; k < nfds; k++) fds[k] = k;
  if (dup3(fifo, (int)nfds, O_CLOEXEC) < 0 || dup3(own_proc, (int)nfds + 1, O_CLOEXEC) < 0) return -1;
  fifo = (int)nfds;
  own_proc = (int)nfds + 1;
  if (via) {
    if (dup3(stub, (int)nfds + 2, O_CLOEXEC) < 0) return -1;
    via[1] = nfds + 2;
  }
  number = fifo;
  while (prefix[i]) { path[i] = prefix[i]; i++; }
  do { digits[n++] = (char)('0' + number % 10); number /= 10; } while (number > 0);
  while (n > 0) path[i++] = digits[--n];
  path[i] = 0;
  end_on_signals();
  report(*sync, REPORT_WAITING, step, 0);
  *sync = -1;
  syscall(nr_close_range, nfds + (via ? 3 : 2), (long)~0U, 0L); /* the sync socket among them */
  /* from here on, `w` (the caller's memory) is not read: the caller may be gone */
  fd = openat(own_proc, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (write(fd, "0", 1) != 1) return -1;
  close(fd);
  close(fifo);
  /*
   * The stub takes an fd 3 of ours as its sign that we started it (it reports a failed
   * execve there): the socket is gone, so it gets this procfs's (close-on-exec), where
   * a report goes nowhere.
   */
  sync_fd = own_proc;
  return 0;
}

/*
 * With CLONE_VM the child reads its program from the caller's memory, which is fine while
 * the caller waits for our execve, not once `create` has returned and its process goes on
 * (and exits: the memory stays, but what it held may have been reused before). So before
 * saying it waits, the child copies what it reads after the wait (the request, the fds,
 * argv, envp, and the steps left: a seccomp filter and exec's candidates (and stub), nothing else)
 * into a mapping of its own making, which the caller knows nothing of and never touches.
 * Returns the copy of the request, or NULL with errno set.
 */
static unsigned long words_of(unsigned long bytes) { return (bytes + 7) / 8; }
static unsigned long str_size(const char *s) { unsigned long n = 0; while (s[n]) n++; return n + 1; }
static unsigned long strings_words(char **v) {
  unsigned long n = 1;
  for (; *v; v++) n += 1 + words_of(str_size(*v));
  return n;
}
static long *arena_take(long **at, unsigned long words) { long *r = *at; *at += words; return r; }
static char **copy_strings(long **at, char **v) {
  long n = 0, i;
  unsigned long k, len;
  char **d;
  while (v[n]) n++;
  d = (char **)arena_take(at, (unsigned long)n + 1);
  for (i = 0; i < n; i++) {
    len = str_size(v[i]);
    d[i] = (char *)arena_take(at, words_of(len));
    for (k = 0; k < len; k++) d[i][k] = v[i][k];
  }
  d[n] = 0;
  return d;
}

static long *own_copy(long *req, long from) {
  long nfds = req[7], nsteps = req[8], head = 9 + nfds + 3 * nsteps, *steps = req + 9 + nfds, *copy, *at, i, k;
  unsigned long words = (unsigned long)head + strings_words((char **)req[5]) + strings_words((char **)req[6]);
  for (i = from + 1; i < nsteps; i++) {
    long op = steps[3 * i], *w = (long *)steps[3 * i + 1];
    if (op == STEP_SECCOMP) words += 2 + words_of(8 * (unsigned long)(unsigned short)w[0]);
    else if (op == STEP_EXEC_FIRST) words += strings_words((char **)w);
    else if (op == STEP_EXEC_VIA) words += 3 + strings_words((char **)w[0]);
    else {
      set_errno(22 /* EINVAL: a step the copy does not know */);
      return (long *)0;
    }
  }
  copy = (long *)mmap((void *)0, words * 8, 3 /* PROT_READ|WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
  if ((long)copy == -1) return (long *)0;
  for (i = 0; i < head; i++) copy[i] = req[i];
  at = copy + head;
  copy[4] = 0; /* path: only the exec step's candidates are exec'd */
  copy[5] = (long)copy_strings(&at, (char **)req[5]);
  copy[6] = (long)copy_strings(&at, (char **)req[6]);
  steps = copy + 9 + nfds;
  for (i = from + 1; i < nsteps; i++) {
    long *w = (long *)steps[3 * i + 1];
    if (steps[3 * i] == STEP_SECCOMP) {
      long *fprog = arena_take(&at, 2);
      unsigned long len = 8 * (unsigned long)(unsigned short)w[0];
      char *filter = (char *)arena_take(&at, words_of(len)), *src = (char *)w[1];
      for (k = 0; k < (long)len; k++) filter[k] = src[k];
      fprog[0] = w[0];
      fprog[1] = (long)filter;
      steps[3 * i + 1] = (long)fprog;
    } else if (steps[3 * i] == STEP_EXEC_VIA) {
      long *via = arena_take(&at, 3);
      via[0] = (long)copy_strings(&at, (char **)w[0]);
      via[1] = w[1];
      via[2] = w[2];
      steps[3 * i + 1] = (long)via;
    } else {
      steps[3 * i + 1] = (long)copy_strings(&at, (char **)w);
    }
  }
  return copy;
}

/* One step of the native init's; 0, or -1 with errno. */
static int native_step(long *req, long op, long a, long b) {
  long *w = (long *)a;
  char path[4096];
  switch (op) {
  case STEP_MOUNT: return mount((const char *)w[0], at_held((const char *)w[1], path), (const char *)w[2], (unsigned long)w[3], (const void *)w[4]);
  case STEP_HOLD_IN: return hold_in(w, b);
  case STEP_PTY_IN: return pty_in(w);
  case STEP_CONSOLE: return console(w);
  case STEP_CTTY: return controlling_terminal((int)a);
  case STEP_SYMLINK: return symlinkat((const char *)w[0], AT_FDCWD, at_held((const char *)w[1], path)) < 0 && *__errno_location() != EEXIST ? -1 : 0;
  case STEP_MOUNT_IN: return mount_in((const char *)w[0], (const char *)w[1], (const char *)w[2], (const char *)w[3], (unsigned long)w[4], (const char *)w[5], (int)w[6]);
  case STEP_MKNOD_IN: return mknod_in(w);
  case STEP_SYMLINK_IN: return symlink_in(w);
  case STEP_PIVOT: return pivot((const char *)a);
  case STEP_HOSTNAME: return sethostname((const char *)a, (unsigned long)b);
  case STEP_DOMAINNAME: return setdomainname((const char *)a, (unsigned long)b);
  case STEP_LOOPBACK_UP: return loopback_up();
  case STEP_MKDIR: return mkdirat(AT_FDCWD, at_held((const char *)a, path), 0755) < 0 && *__errno_location() != EEXIST ? -1 : 0;
  case STEP_MASK: return mask((const char *)a);
  case STEP_READONLY: return readonly((const char *)a);
  case STEP_KEYRING: return syscall(nr_keyctl, 1 /* JOIN_SESSION_KEYRING */, a, 0, 0) < 0 && *__errno_location() != 38 /* ENOSYS */ ? -1 : 0;
  case STEP_CHDIR: return chdir((const char *)a) < 0 ? -1 : b ? check_cwd() : 0;
  case STEP_BOUNDING: return drop_bounding(w);
  case STEP_KEEPCAPS: return prctl(8 /* PR_SET_KEEPCAPS */, (unsigned long)a, 0, 0, 0);
  case STEP_GROUPS: return setgroups((unsigned long)b, (const unsigned *)a);
  case STEP_DEATHSIG: return prctl(1 /* PR_SET_PDEATHSIG */, (unsigned long)a, 0, 0, 0);
  case STEP_CAPSET: return capset(w, w + 1);
  case STEP_AMBIENT: return ambient((unsigned *)a, b);
  case STEP_NNP: return prctl(38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0);
  case STEP_SECCOMP: return syscall(nr_seccomp, 1 /* SET_MODE_FILTER */, b, a) < 0 ? -1 : 0;
  case STEP_SETSID: return setsid() < 0 ? -1 : 0;
  case STEP_UMASK: umask((unsigned)a); return 0;
  case STEP_NOT_DUMPABLE: return prctl(4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0);
  case STEP_OWN_PROC: return make_own_proc();
  case STEP_EXEC_FIRST: return exec_first(req, (char **)a, b);
  case STEP_EXEC_VIA: return exec_via(req, w, b);
  case STEP_RLIMIT: return setrlimit((int)w[0], w + 1);
  }
  return set_errno(22 /* EINVAL */);
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
  sync_fd = sync;
  default_handlers(); /* Bun's handlers are in the memory we may share: never run them here */
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
    } else if (op == STEP_WAIT_START) {
      if (req[0] & CLONE_VM) {
        req = own_copy(req, i);
        if (!req) fail(sync, (int)i);
        fds = req + 9;
        steps = fds + nfds;
      }
      if (wait_for_start((long *)a, &sync, (int)i, fds, nfds, steps + 3 * (i + 1), nsteps - i - 1) < 0) fail(sync, (int)i);
    } else if (op >= STEP_MOUNT) {
      if (op == STEP_EXEC_FIRST || op == STEP_EXEC_VIA) {
        reset_signals();
        place_fds(sync, fds, nfds);
        syscall(436, (long)nfds, (long)~0U, 4L); /* close_range(CLOEXEC), as below */
      }
      if (native_step(req, op, a, b) < 0) fail(sync, (int)i);
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

/*
 * The keeper of a container that outlives its caller (the first `run -d`,
 * docs/detached.md): a process between the caller and the container's first process,
 * so that the first process is its child, not the caller's. It is cloned with CLONE_VM
 * (no copy of Bun's page tables) on a stack of its own, and clones the first process
 * exactly as the caller would have. Then it waits on its end of the caller's socket:
 * "k" (keep) makes it place the fds the caller named, leave the container's namespaces
 * and execve the caller's program (mycr's supervisor, which keeps the pid and so the
 * child); "k" is followed by the number of fds and the fds (64-bit words), chosen
 * once the caller knows them all (the terminal's master is opened in the window).
 * Anything else, or the caller's death, makes it kill the first process, reap it and
 * exit. Until its execve it shares Bun's memory, and Bun's thread state: glibc's
 * cancellation points (read, write, close, waitpid) write the calling thread's cancel
 * state, which is Bun's main thread's here. So it calls them only while that thread is
 * blocked waiting on it (at its start, and in place_fds's failure); its reads and
 * writes on the socket, and its wait4, are raw system calls, its long wait among them.
 * `keeper` is [0] its end of the socket, [1] the caller's end, [2] path, [3] argv,
 * [4] envp, [5] read's, [6] write's and [7] wait4's syscall numbers, [8] out: its pid.
 */
static char keeper_stack[64 * 1024] __attribute__((aligned(16)));
static long *keeper_req, *keeper_win;
static unsigned keeper_umask;

/*
 * Signals that came while ours were blocked (a ^C at the client's terminal before our
 * setsid) are discarded, not delivered to the supervisor we become: ignoring a pending
 * signal drops it. Not SIGCHLD: ignored, it would reap init behind the supervisor's back.
 */
static void drop_pending_signals(void) {
  unsigned char empty[128];
  int sig;
  for (sig = 1; sig <= 64; sig++) {
    if (sig == 9 || sig == 19 || sig == SIGCHLD || sig == 32 || sig == 33) continue;
    signal(sig, (void *)1); /* SIG_IGN */
  }
  for (sig = 0; sig < 128; sig++) empty[sig] = 0;
  sigprocmask(SIG_SETMASK, empty, (void *)0);
  default_handlers();
}

/* All of `count` bytes from the socket (raw reads: see above), or 0. */
static int read_all(long nr_read, int fd, void *buf, long count) {
  long got = 0, n;
  while (got < count) {
    n = syscall(nr_read, fd, (char *)buf + got, count - got);
    if (n <= 0) return 0;
    got += n;
  }
  return 1;
}

static int keeper(void *arg) {
  long *k = (long *)arg, *req = keeper_req, *win = keeper_win;
  long nsaved = win[0], *saved = win + 13, pid, i, fds[65];
  /* high: placing the fds below must not overwrite it (its EOF tells the caller execve worked) */
  int ctl = fcntl((int)k[0], F_DUPFD_CLOEXEC, 100);
  char cmd = 0;
  close((int)k[0]);
  close((int)k[1]); /* the caller's end: its death must read as EOF here */
  pid = clone(child, stack + sizeof stack, (int)(req[0] | SIGCHLD), req);
  if (pid < 0) pid = -*__errno_location();
  setsid(); /* out of the client's session: its terminal's signals and hangup are not ours */
  /* the sync socket is the caller's and the child's: EOF on execve must come */
  close((int)req[2]);
  close((int)req[3]);
  /* back to the caller's namespaces before anything else (and before we report: the
     caller's memory, `win` among it, is only sure to be there until then): never exec in
     the container's */
  for (i = 0; i < nsaved && pid > 0; i++) {
    if (setns((int)saved[i], 0) < 0) {
      kill((int)pid, 9);
      syscall(k[7], pid, (long)0, 0L, 0L);
      pid = -*__errno_location();
    }
  }
  if (ctl < 0 && pid > 0) {
    kill((int)pid, 9);
    syscall(k[7], pid, (long)0, 0L, 0L);
    _exit(125); /* the caller reads EOF: EIO */
  }
  fchdir((int)win[1]);
  umask(keeper_umask);
  syscall(k[6], ctl, &pid, sizeof pid);
  if (pid < 0) _exit(125);
  if (syscall(k[5], ctl, &cmd, 1L) == 1 && cmd == 'k' && read_all(k[5], ctl, fds, 8) && fds[0] >= 0 && fds[0] <= 64 && read_all(k[5], ctl, fds + 1, 8 * fds[0])) {
    drop_pending_signals();
    place_fds(ctl, fds + 1, fds[0]);
    syscall(nr_close_range, fds[0], (long)~0U, 4L); /* close_range(CLOEXEC): ctl too, whose EOF tells the caller */
    execve((const char *)k[2], (char *const *)k[3], (char *const *)k[4]);
    i = *__errno_location();
    syscall(k[6], ctl, &i, sizeof i);
  }
  kill((int)pid, 9);
  syscall(k[7], pid, (long)0, 0L, 0L);
  _exit(0);
  return 0;
}

/*
 * The native init's window, on the caller's thread: `win` is [0] number of saved
 * namespace fds, [1] the caller's cwd fd, [2] number of window steps, [3] out: the step
 * that failed, [4] out: its errno, [5..11] the architecture's numbers (pivot_root,
 * seccomp, keyctl, openat2, close_range, O_DIRECTORY, O_NOFOLLOW), [12] the keeper's
 * words (below) or 0, then the saved
 * namespace fds, then the steps (three words each, as the child's). No JavaScript runs
 * while this thread is in the container's namespaces: Bun could start a thread there
 * that shares its fs struct (and is then stuck in the container's root), and after
 * unshare(CLONE_NEWPID) the kernel would refuse Bun new threads at all; so the new
 * PID namespace is made by clone(), and everything in between is this one call.
 * The steps (unshare, mounts, pivot_root, hostname...) run here; then the child is
 * cloned (the request `req`, as for mycr_spawn_in_namespaces) and we go back to the
 * caller's namespaces and cwd. Returns the child's pid, or -1 with win[3..4] set.
 */
long mycr_enter_and_spawn(long *req, long *win) {
  long nsaved = win[0], nsteps = win[2], *saved = win + 13, *steps = saved + nsaved, i, pid = -1;
  long *k = (long *)win[12];
  unsigned char all[128], old[128];
  unsigned mask_before;
  nr_pivot_root = win[5]; nr_seccomp = win[6]; nr_keyctl = win[7]; nr_openat2 = win[8];
  nr_close_range = win[9]; o_directory = win[10]; o_nofollow = win[11];
  win[3] = -1;
  win[4] = 0;
  for (i = 0; i < 8; i++) held[i] = -1;
  if (unshare(0x200 /* CLONE_FS: setns back needs an fs struct of our own */) < 0) {
    win[4] = *__errno_location();
    return -1;
  }
  mask_before = umask(0); /* devices get exactly their mode; the child sets the container's */
  for (i = 0; i < nsteps; i++) {
    long op = steps[3 * i], a = steps[3 * i + 1], b = steps[3 * i + 2];
    /* setns of a PID namespace on our thread: only the child's (pid_for_children), as exec joins one */
    int r = op == STEP_UNSHARE ? unshare((int)a) : op == STEP_SETNS ? setns((int)a, (int)b) : native_step(req, op, a, b);
    if (r < 0) {
      win[3] = i;
      win[4] = *__errno_location();
      goto back;
    }
  }
  for (i = 0; i < 128; i++) all[i] = 0xff;
  sigprocmask(SIG_SETMASK, all, old); /* no handler of Bun's may run in the child */
  if (k) {
    /* the keeper clones the child and reports its pid (or -errno) on the caller's end */
    keeper_req = req;
    keeper_win = win;
    keeper_umask = mask_before;
    k[8] = clone(keeper, keeper_stack + sizeof keeper_stack, CLONE_VM | SIGCHLD, k);
    pid = k[8];
    if (pid > 0) {
      if (!read_all(k[5], (int)k[1], &pid, sizeof pid)) pid = -5; /* EIO: it died */
      if (pid < 0) {
        *__errno_location() = (int)-pid;
        pid = -1;
      }
    }
  } else {
    pid = clone(child, stack + sizeof stack, (int)(req[0] | SIGCHLD), req);
  }
  if (pid < 0) {
    win[3] = nsteps;
    win[4] = *__errno_location();
    pid = -1;
  }
  sigprocmask(SIG_SETMASK, old, (void *)0);
back:
  /* The child has its own copies (close-on-exec); it still reads their numbers here. */
  for (i = 0; i < 8; i++) if (held[i] >= 0) close(held[i]);
  for (i = 0; i < nsaved; i++) {
    if (setns((int)saved[i], 0) < 0 && win[3] < 0) {
      /* we cannot stay in the container's namespaces: better to die than to go on there */
      _exit(125);
    }
  }
  fchdir((int)win[1]);
  umask(mask_before);
  return pid;
}
