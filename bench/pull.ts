// Pull time: a ~200 MB, 6-layer gzip image (bench/pull-image.ts) from Debian's
// docker-registry on 127.0.0.1, downloaded and unpacked by
//   mycr pull                      (a fresh MYCR_ROOT each run)
//   podman pull                    (a fresh --root/--runroot each run, overlay driver)
//   skopeo copy + umoci unpack     (a fresh OCI layout and bundle each run)
// in interleaved rounds (the order rotates each round), median wall times and ratios
// printed. Target: mycr <= 0.35 x podman wall and <= 0.45 x its CPU.
//   bun bench/pull.ts [--runs 5] [--only mycr[,podman,skopeo]]
//
// Where the stores live: a fresh ext4 (with a journal, as mkfs makes it) on a loop
// device, made for the bench and removed after; `--dir DIR` uses DIR instead. Not the
// repository's own filesystem: on this development machine that is ext4 *without* a
// journal, where creating an inode skips every inode deleted in the last minutes
// (ext4's recently_deleted()), so a pull right after removing the previous run's store
// spent over half its time in the kernel's inode allocator, whichever tool ran; and
// other work on the machine creates and removes files all the time.
//
// Page cache: not dropped (that would disturb everything else running on the machine);
// the registry's blobs stay cached, standing in for a fast network. `sync` runs before
// every timed run so no tool pays for writing back another's files; no tool's own
// writeback is timed (none of them fsyncs layer files).
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, REPO } from "../test/helpers/env";
import { push, startRegistry, type TestRegistry } from "../test/helpers/registry";
import { TAG, benchImage } from "./pull-image";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, only: { type: "string" }, dir: { type: "string" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`bench: --runs "${values.runs}" is not a positive whole number`);
  process.exit(2);
}

function which(cmd: string): string | null {
  const r = Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]);
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

const needed: Record<string, string> = { podman: "podman", skopeo: "skopeo", umoci: "umoci", "docker-registry": "docker-registry" };
if (!values.dir) needed["mkfs.ext4"] = "e2fsprogs";
const missing = Object.entries(needed).filter(([cmd]) => !which(cmd));
if (missing.length > 0) {
  console.error(`bench: missing ${missing.map(([c]) => c).join(", ")}: apt-get install ${missing.map(([, p]) => p).join(" ")}`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("bench: run as root (podman's and mycr's stores, umoci's ownership): ./scripts/as-root bun bench/pull.ts");
  process.exit(2);
}

const WORK = resolve(REPO, ".bench-work");
const image = benchImage(WORK);
const fsImage = join(WORK, `pull-${process.pid}.ext4`);
const scratch = values.dir ? join(resolve(values.dir), `mycr-bench-pull-${process.pid}`) : join(WORK, `pull-${process.pid}`);

/** A fresh journaled ext4 at `scratch` (sparse file on a loop device). */
function mountScratch(): void {
  mkdirSync(scratch, { recursive: true });
  if (values.dir) return;
  Bun.spawnSync(["truncate", "-s", "12G", fsImage]);
  sh(["mkfs.ext4", "-q", "-F", fsImage]);
  sh(["mount", "-o", "loop", fsImage, scratch]);
}

function unmountScratch(): void {
  if (!values.dir) {
    unmountBelow(scratch);
    rmSync(fsImage, { force: true });
  }
  rmSync(scratch, { recursive: true, force: true });
}

interface Timing {
  wall: number;
  /** user + system CPU of the tool and its reaped children, ms */
  cpu: number;
}

function run(argv: string[], env?: Record<string, string>): Timing {
  const start = performance.now();
  const r = Bun.spawnSync(argv, { env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env }, stdout: "ignore", stderr: "pipe" });
  const wall = performance.now() - start;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
  const cpu = r.resourceUsage ? Number(r.resourceUsage.cpuTime.total) / 1000 : NaN;
  return { wall, cpu };
}

function sh(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Bytes of regular files below `dir` (du --apparent-size would count directories too). */
function fileBytes(dir: string): number {
  return Number(sh(["find", dir, "-type", "f", "-printf", "%s\\n"]).split("\n").reduce((s, l) => s + (l ? Number(l) : 0), 0));
}

/** Unmounts whatever a tool left mounted below `dir` (podman's overlay driver may leave some). */
function unmountBelow(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
}

/** podman refuses a runroot longer than 50 characters: a short one under /run. */
const podmanRunroot = (dir: string) => `/run/mycr-bench-${process.pid}-${dir.split("-").at(-1)}`;
const podmanArgs = (dir: string) => ["podman", "--root", join(dir, "root"), "--runroot", podmanRunroot(dir), "--storage-driver", "overlay"];

interface Tool {
  name: string;
  /** Runs the pull into fresh stores below `dir`; returns the timing. */
  pull: (ref: string, dir: string) => Timing;
  /** Bytes of files the pull unpacked (checked once against the image). */
  unpacked: (dir: string) => number;
  clean: (dir: string) => void;
}

const tools: Tool[] = [
  {
    name: "mycr pull",
    pull: (ref, dir) => run([MYCR, "pull", "--quiet", "--tls-verify=false", ref], { MYCR_ROOT: join(dir, "root"), MYCR_STATE: join(dir, "state") }),
    unpacked: (dir) => fileBytes(join(dir, "root/layers")),
    clean: (dir) => rmSync(dir, { recursive: true, force: true }),
  },
  {
    name: "podman pull",
    pull: (ref, dir) => run([...podmanArgs(dir), "pull", "--quiet", "--tls-verify=false", ref]),
    unpacked: (dir) => fileBytes(join(dir, "root/overlay")),
    clean: (dir) => {
      Bun.spawnSync([...podmanArgs(dir), "system", "reset", "-f"], { stdout: "ignore", stderr: "ignore" });
      for (const d of [dir, podmanRunroot(dir)]) {
        unmountBelow(d);
        rmSync(d, { recursive: true, force: true });
      }
    },
  },
  {
    name: "skopeo copy + umoci unpack",
    pull: (ref, dir) => {
      const copy = run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${join(dir, "oci")}:${TAG}`]);
      const unpack = run(["umoci", "unpack", "--image", `${join(dir, "oci")}:${TAG}`, join(dir, "bundle")]);
      return { wall: copy.wall + unpack.wall, cpu: copy.cpu + unpack.cpu };
    },
    unpacked: (dir) => fileBytes(join(dir, "bundle/rootfs")),
    clean: (dir) => rmSync(dir, { recursive: true, force: true }),
  },
];
// --only mycr,podman: the tools whose names start with one of the words
const only = values.only?.split(",").filter((w) => w !== "");
const chosen = only ? tools.filter((t) => only.some((w) => t.name.startsWith(w))) : tools;
if (chosen.length === 0) {
  console.error(`bench: --only "${values.only}" names no tool (mycr, podman, skopeo)`);
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

let registry: TestRegistry | undefined;
async function cleanup(): Promise<void> {
  for (const t of chosen) {
    for (const d of existsDirs(scratch)) if (d.startsWith(slug(t.name))) t.clean(join(scratch, d));
  }
  unmountScratch();
  await registry?.stop();
  registry = undefined;
}
const slug = (name: string) => name.split(" ")[0]!;
function existsDirs(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
// A signal is seen between runs (a run is a blocking spawn): the rounds stop there and
// the cleanup below runs as after the last round.
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, stopping after this run and cleaning up`);
    stopping = true;
  });
}

const times = new Map<string, Timing[]>(chosen.map((t) => [t.name, []]));
try {
  registry = await startRegistry();
  const ref = `${registry.host}/bench/pull:${TAG}`;
  push(image.dir, TAG, ref);
  mountScratch();
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  console.error(`image: ${image.layers} gzip layers, ${mb(image.compressed)} compressed, ${mb(image.unpacked)} as tar; ${runs} runs each, interleaved; stores in ${values.dir ? scratch : "a fresh ext4 on a loop device"}`);
  for (let round = 0; round < runs && !stopping; round++) {
    for (let k = 0; k < chosen.length && !stopping; k++) {
      await Bun.sleep(0); // lets a pending signal's handler run
      if (stopping) break;
      const tool = chosen[(round + k) % chosen.length]!;
      const dir = join(scratch, `${slug(tool.name)}-${round}`);
      mkdirSync(dir, { recursive: true });
      Bun.spawnSync(["sync"]);
      const t = tool.pull(ref, dir);
      times.get(tool.name)!.push(t);
      if (round === 0) {
        // A pull that did not unpack everything would win unfairly.
        const got = tool.unpacked(dir);
        if (got < image.unpacked * 0.8) throw new Error(`${tool.name} unpacked only ${mb(got)} of files (the image has ${mb(image.unpacked)} of tar)`);
      }
      tool.clean(dir);
      console.error(`  round ${round + 1}: ${tool.name.padEnd(28)} ${(t.wall / 1000).toFixed(2)} s wall, ${(t.cpu / 1000).toFixed(2)} s CPU`);
    }
  }
} finally {
  await cleanup();
}
if (stopping) process.exit(130);

const med = new Map([...times].map(([name, ts]) => [name, { wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) }]));
for (const [name, m] of med) console.log(`${name.padEnd(28)} median ${(m.wall / 1000).toFixed(2)} s wall, ${(m.cpu / 1000).toFixed(2)} s CPU (min ${(Math.min(...times.get(name)!.map((t) => t.wall)) / 1000).toFixed(2)} s)`);
const mycr = med.get("mycr pull");
const podman = med.get("podman pull");
const skopeo = med.get("skopeo copy + umoci unpack");
if (mycr && podman) {
  const ratio = mycr.wall / podman.wall;
  const cpu = mycr.cpu / podman.cpu;
  console.log(`ratio mycr/podman: ${ratio.toFixed(2)} wall, ${cpu.toFixed(2)} CPU (target <= 0.35 wall: ${ratio <= 0.35 ? "met" : "NOT met"}; <= 0.45 CPU: ${cpu <= 0.45 ? "met" : "NOT met"})`);
}
if (mycr && skopeo) console.log(`ratio mycr/(skopeo+umoci): ${(mycr.wall / skopeo.wall).toFixed(2)} wall, ${(mycr.cpu / skopeo.cpu).toFixed(2)} CPU`);
