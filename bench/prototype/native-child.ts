// Prototype for issue 17 (not part of mycr): one Bun process whose container child runs
// no Bun start-up. It measures the floor of that process model against `runc run`:
//   bun build --compile bench/prototype/native-child.ts --outfile .bench-work/proto
//   .bench-work/proto ROOTFS [BPF_FILE [CMD...]]   (PROTO_SO=x.so: the C built by gcc instead;
//   PROTO_FORK=1: a fork-like clone that copies our page tables, instead of CLONE_VM)
// JS prepares a plan (the mounts of `runc spec`'s default config: rslave /, bind of the
// root, /dev tmpfs + devices, devpts, shm, mqueue, sysfs; runc's masked and read-only
// paths; a v1 cgroup per controller), then native-child.c's enter_and_spawn runs the
// whole window in C: unshare, mounts, pivot_root, hostname, clone(CLONE_NEWPID), cgroup,
// masks once the child mounted /proc, "go", setns back. The child execs /bin/true.
import { cc, dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import source from "./native-child.c" with { type: "file" };

const t0 = performance.now();
const trace = (what: string) => process.env.PROTO_TRACE && console.error(`${(performance.now() - t0).toFixed(2)} ${what}`);
const { i32, i64, ptr: p } = FFIType;
const libc = dlopen("libc.so.6", {
  unshare: { args: [i32], returns: i32 },
  pipe2: { args: [p, i32], returns: i32 },
  waitpid: { args: [i32, p, i32], returns: i32 },
}).symbols;
trace("dlopen");

// TinyCC compiles from a real file only (the bundled source lives in /$bunfs).
let cfile = source;
if (source.startsWith("/$bunfs/")) {
  cfile = `/tmp/mycr-proto-${process.pid}.c`;
  writeFileSync(cfile, readFileSync(source));
}
const symbols = {
  enter_and_spawn: { args: [p, i32, i32, p, p, i32, p, i32, p, i32, p, i32, p, p, p, p, p, i32, i32], returns: i64 },
} as const;
const lib = process.env.PROTO_SO ? dlopen(process.env.PROTO_SO, symbols) : cc({ source: cfile, symbols });
if (cfile !== source) rmSync(cfile);
trace("cc");

const keep: Buffer[] = []; // the C strings must live until the call returns
const c = (s: string | null): bigint => {
  if (s === null) return 0n;
  const b = Buffer.alloc(Buffer.byteLength(s) + 1); // its own allocation, not a pooled slice
  b.write(s);
  keep.push(b);
  return BigInt(ptr(b));
};
const MS = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, REMOUNT: 32, BIND: 4096, REC: 16384, SLAVE: 1 << 19 };
type Op = [string | null, string, string | null, number, string | null, boolean?];
const plan = (ops: Op[]) => {
  const words = new BigUint64Array(ops.length * 6 || 1);
  ops.forEach(([src, dst, type, flags, data, optional], i) => words.set([c(src), c(dst), c(type), BigInt(flags), c(data), optional ? 1n : 0n], i * 6));
  return words;
};

const rootfs = process.argv[2]!;
const bpf = process.argv[3] ? new Uint8Array(readFileSync(process.argv[3])) : new Uint8Array(8);
const devices = ["null", "zero", "full", "random", "urandom", "tty"];
const mounts = plan([
  [null, "/", null, MS.SLAVE | MS.REC, null],
  [rootfs, rootfs, null, MS.BIND | MS.REC, null],
  ["tmpfs", `${rootfs}/dev`, "tmpfs", MS.NOSUID, "mode=755,size=65536k"],
]);
const devMounts: Op[] = [
  ...["pts", "shm", "mqueue"].map((d): Op => [null, `${rootfs}/dev/${d}`, "!dir", 0, null]),
  ...devices.map((d): Op => [null, `${rootfs}/dev/${d}`, "!file", 0, null]),
  ["devpts", `${rootfs}/dev/pts`, "devpts", MS.NOSUID | MS.NOEXEC, "newinstance,ptmxmode=0666,mode=0620"],
  ["shm", `${rootfs}/dev/shm`, "tmpfs", MS.NOSUID | MS.NOEXEC | MS.NODEV, "mode=1777,size=65536k"],
  ["mqueue", `${rootfs}/dev/mqueue`, "mqueue", MS.NOSUID | MS.NOEXEC | MS.NODEV, null],
  ...devices.map((d): Op => [`/dev/${d}`, `${rootfs}/dev/${d}`, null, MS.BIND, null]),
  ["sysfs", `${rootfs}/sys`, "sysfs", MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY, null],
];
const masks = plan([
  ...["/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug"].map((m): Op => ["/dev/null", m, null, MS.BIND, null, true]),
  ...["/proc/acpi", "/proc/scsi", "/sys/firmware"].map((m): Op => ["tmpfs", m, "tmpfs", MS.RDONLY, null, true]),
  ...["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"].flatMap((r): Op[] => [
    [r, r, null, MS.BIND | MS.REC, null, true],
    [r, r, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC, null, true],
  ]),
]);
const saved = new Int32Array(["mnt", "uts", "ipc", "net"].map((n) => openSync(`/proc/thread-self/ns/${n}`, "r")));
const cwd = openSync(".", "r");
const cgroups = ["cpu", "memory", "pids", "devices", "freezer"].map((k) => `/sys/fs/cgroup/${k}/mycr-proto-${process.pid}`);
for (const g of cgroups) mkdirSync(g);
const procs = new Int32Array(cgroups.map((g) => openSync(`${g}/cgroup.procs`, "w")));
const report = new Int32Array(2);
const go = new Int32Array(2);
if (libc.pipe2(report, 0o2000000) < 0 || libc.pipe2(go, 0o2000000) < 0) throw new Error("pipe2");
const pipes = new Int32Array([report[0]!, report[1]!, go[0]!, go[1]!]);
const allMounts = new BigUint64Array([...mounts, ...plan(devMounts)]);
const command = process.argv.length > 4 ? process.argv.slice(4) : ["/bin/true"];
const argv = new BigUint64Array([...command.map(c), 0n]);
const envp = new BigUint64Array([c("PATH=/bin"), 0n]);
if (libc.unshare(0x200) < 0) throw new Error("unshare(CLONE_FS)"); // before the window: setns(mnt) needs it
const host = Buffer.from("proto");
const pid = Number(
  lib.symbols.enter_and_spawn(saved, saved.length, cwd, Buffer.from(`${rootfs}\0`), host, host.length, allMounts, allMounts.length / 6, masks, masks.length / 6, procs, procs.length, pipes, Buffer.from(`${command[0]}\0`), argv, envp, bpf, process.argv[3] ? bpf.length / 8 : 0, process.env.PROTO_FORK ? 0 : 1),
);
trace(`spawned ${pid}`);
for (const fd of pipes) closeSync(fd);
let code = 125;
if (pid > 0) {
  const status = new Int32Array(1);
  libc.waitpid(pid, status, 0);
  code = (status[0]! >> 8) & 0xff;
}
trace("exited");
for (const g of cgroups) rmdirSync(g);
trace("cgroups removed");
process.exit(code);
