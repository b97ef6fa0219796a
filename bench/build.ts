// Build time: a small multi-stage project (a builder stage that RUNs over copied sources,
// a final stage that copies its output, with config steps) built by
//   mycr build      (its own MYCR_ROOT and MYCR_STATE under .bench-work)
//   podman build    (runc, cgroupfs; crun refuses this host's hybrid cgroups)
// from the same busybox base image, cold (--no-cache: every RUN and COPY done) and warm
// (nothing changed: every step from the cache), in interleaved rounds; median wall times
// and ratios printed. Target: mycr <= 0.5 x podman.
//   bun bench/build.ts [--runs 5]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, REPO } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`bench: --runs "${values.runs}" is not a positive whole number`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("bench: run as root: ./scripts/as-root bun bench/build.ts");
  process.exit(2);
}
for (const cmd of ["podman", "runc"]) {
  if (Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode !== 0) {
    console.error(`bench: missing ${cmd}: apt-get install ${cmd}`);
    process.exit(2);
  }
}

const WORK = resolve(REPO, ".bench-work", `build-${process.pid}`);
const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", MYCR_ROOT: join(WORK, "root"), MYCR_STATE: `/run/mycr-bench-build-${process.pid}` };
const BASE = `localhost/mycr-bench-build-base:${process.pid}`;
const IMAGE = `localhost/mycr-bench-build:${process.pid}`;
// podman gets a store and state of its own too (--root, --runroot, --tmpdir), so the
// bench neither sees nor touches anyone else's images or podman's /run/libpod.
const PODMAN_RUN = `/run/mycr-bench-podman-${process.pid}`;
const PODMAN = ["podman", "--root", join(WORK, "podman-root"), "--runroot", join(PODMAN_RUN, "run"), "--tmpdir", join(PODMAN_RUN, "tmp"), "--runtime", "runc", "--cgroup-manager", "cgroupfs"];
const LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];

function sh(cmd: string[], opts: { stdin?: Uint8Array; env?: Record<string, string> } = {}): string {
  const r = Bun.spawnSync(cmd, { stdin: opts.stdin, env: opts.env ?? process.env, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString().slice(-2000)}`);
  return r.stdout.toString();
}

/** The project: sources, a build script the RUN step executes, a Dockerfile of two stages. */
function project(dir: string): void {
  mkdirSync(join(dir, "src/lib"), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, "src/lib", `mod${i}.txt`), `module ${i}\n${"x".repeat(2000 + i)}\n`);
  writeFileSync(join(dir, "src/main.txt"), "main\n");
  writeFileSync(join(dir, "build.sh"), "#!/bin/sh\nset -e\nmkdir -p /out\nfor f in src/lib/*.txt; do sha256sum \"$f\"; done > /out/manifest\ncat src/main.txt src/lib/*.txt | gzip > /out/app.gz\n");
  writeFileSync(join(dir, ".dockerignore"), "*.log\n");
  writeFileSync(
    join(dir, "Dockerfile"),
    `ARG BASE
FROM \${BASE} AS builder
WORKDIR /work
COPY build.sh ./
COPY src/ ./src/
RUN sh build.sh
RUN ls -l /out > /out/listing

FROM \${BASE}
ENV APP_HOME=/app
WORKDIR /app
COPY --from=builder /out/ ./
LABEL org.example.bench=build
EXPOSE 8080
CMD ["cat", "/app/manifest"]
`,
  );
}

interface Timing {
  wall: number;
}

function timed(cmd: string[], e?: Record<string, string>): Timing {
  Bun.spawnSync(["sync"]);
  const t0 = performance.now();
  sh(cmd, { env: e });
  return { wall: performance.now() - t0 };
}

/** Whatever podman's storage left mounted below `dir` (deepest first). */
function unmountBelow(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m === dir || m.startsWith(`${dir}/`));
  for (const m of mounts.sort((a, b) => b.length - a.length)) Bun.spawnSync(["umount", "-l", m]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ctx = join(WORK, "project");
mkdirSync(WORK, { recursive: true });
project(ctx);
const tar = Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-c", "."]).stdout;
sh([MYCR, "import", "-", BASE], { stdin: tar, env });
sh(["sh", "-c", `img="$1"; shift; "${MYCR}" save "$img" | "$@"`, "sh", BASE, ...PODMAN, "load"], { env: { ...process.env, ...env } });

const mycrBuild = (extra: string[]) => [MYCR, "build", "-q", ...extra, "--build-arg", `BASE=${BASE}`, "-t", IMAGE, ctx];
const podmanBuild = (extra: string[]) => [...PODMAN, "build", "-q", ...LIMITS, ...extra, "--build-arg", `BASE=${BASE}`, "-t", IMAGE, ctx];

const results: Record<string, number[]> = { "mycr cold": [], "podman cold": [], "mycr warm": [], "podman warm": [] };
try {
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? ["mycr", "podman"] : ["podman", "mycr"];
    for (const tool of order) {
      const build = tool === "mycr" ? mycrBuild : podmanBuild;
      const e = tool === "mycr" ? env : undefined;
      results[`${tool} cold`]!.push(timed(build(["--no-cache"]), e).wall);
      results[`${tool} warm`]!.push(timed(build([]), e).wall);
    }
    console.log(`round ${round + 1}/${runs}: ${Object.entries(results).map(([k, v]) => `${k} ${v.at(-1)!.toFixed(0)} ms`).join(", ")}`);
  }
} finally {
  Bun.spawnSync([...PODMAN, "rmi", "--all", "--force"]);
  unmountBelow(WORK);
  Bun.spawnSync([MYCR, "gc"], { env });
  rmSync(WORK, { recursive: true, force: true });
  rmSync(env.MYCR_STATE, { recursive: true, force: true });
  unmountBelow(PODMAN_RUN);
  rmSync(PODMAN_RUN, { recursive: true, force: true });
}

console.log("\nmedian wall time (ms) over", runs, "rounds:");
for (const phase of ["cold", "warm"]) {
  const m = median(results[`mycr ${phase}`]!);
  const p = median(results[`podman ${phase}`]!);
  console.log(`  ${phase}: mycr ${m.toFixed(0)}  podman ${p.toFixed(0)}  ratio ${(m / p).toFixed(2)} x podman (target <= 0.5)`);
}
