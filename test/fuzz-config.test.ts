// Fuzzing config.json: `mycr spec`'s default config, mutated at random (seeded) and by
// hand-picked rules, given to `mycr run --bundle` and `mycr create`. Whatever the input,
// mycr must answer within a time limit, with one line on stderr and exit 125 when it
// refuses (or the container's own status when the input was valid), never a stack
// trace, and `mycr delete --force` must leave nothing behind.
// Mutations that would touch the host if they were valid (joining the host's
// namespaces, bind-mounting host directories, shared propagation) are not generated.
import { beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../src/spec/types";
import { TEST_STATE, WORK } from "./helpers/env";
import { AWKWARD_NUMBERS, AWKWARD_STRINGS, awkwardValue, deep, outcomeProblems } from "./helpers/fuzz";
import { foreignNamespaceProcesses } from "./helpers/leaks";
import { mycr } from "./helpers/mycr";
import { settledOwnLeaks } from "./helpers/own-leaks";
import { Random, testSeed } from "./helpers/random";
import { busyboxRootfs } from "./helpers/rootfs";

const seed = testSeed("fuzz-config");
const TIMEOUT_MS = 20_000;
const dir = join(WORK, `fuzz-config-${process.pid}`);
const ids = new Set<string>();
let base: Spec;
let baseline: Set<string>;
let rootfs: string;
let counter = 0;

beforeAll(async () => {
  baseline = foreignNamespaceProcesses();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A copy of its own: a mutated config may make the root writable.
  rootfs = join(dir, "rootfs");
  cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
  const r = await mycr(["spec", "--bundle", dir]);
  expect(r.exitCode).toBe(0);
  base = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Spec;
  base.root = { path: rootfs, readonly: true };
  base.process!.terminal = false;
  base.process!.args = ["true"];
});

type Json = Record<string, unknown> | unknown[];

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Every container (object or array) in `v` with its path, so a mutation can land anywhere. */
function containers(v: unknown, path: string[] = [], out: Array<{ path: string[]; node: Json }> = []) {
  if (typeof v === "object" && v !== null) {
    out.push({ path, node: v as Json });
    for (const [k, x] of Object.entries(v)) containers(x, [...path, k], out);
  }
  return out;
}

function at(spec: Record<string, unknown>, path: string[]): Record<string, unknown> {
  let node: Record<string, unknown> = spec;
  for (const key of path) {
    if (typeof node[key] !== "object" || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  return node;
}

/** The array at node[key], made one if an earlier mutation put something else there. */
function arr(node: Record<string, unknown>, key: string): unknown[] {
  if (!Array.isArray(node[key])) node[key] = [];
  return node[key] as unknown[];
}

/** Targeted mutations: the fields a runtime interprets, given the values it must refuse. */
const RULES: Array<(s: Record<string, unknown>, rnd: Random) => void> = [
  (s) => (arr(at(s, ["linux"]), "namespaces").push({ type: "pid" })),
  (s, rnd) => (arr(at(s, ["linux"]), "namespaces").push({ type: rnd.pick(["bogus", "user", "time", "", "PID", "mount "]) })),
  (s, rnd) => (arr(at(s, ["linux"]), "namespaces").push({ type: "network", path: rnd.pick(["/nonexistent/ns", "relative", "", "/dev/null"]) })),
  (s, rnd) => (at(s, ["linux"]).namespaces = rnd.pick([[], null, "pid", [{}], [{ type: 1 }], [{ type: "mount" }]])),
  (s, rnd) =>
    arr(s, "mounts").push({
      destination: rnd.pick(["/mnt", "relative", "/proc/x", "/dev/null/x", "/" + "d".repeat(300), "/\u0000x"]),
      type: rnd.pick(["bogusfs", "tmpfs", "proc", "sysfs", "", "overlay", "cgroup2", "mqueue"]),
      source: rnd.pick(["none", "tmpfs", "/nonexistent/src", ""]),
      options: rnd.pick([["bogus"], ["size=-1"], ["size=99999999999999999999"], ["mode=99999"], ["ro", "rw", "remount"], ["nosuid", "nodev", "bind"], [""], ["uid=-5"], ["rbind", "rprivate"]]),
    }),
  (s, rnd) => (arr(s, "mounts").push(rnd.pick([{}, { destination: 5 }, { destination: "/x", options: "ro" }, { destination: "/x", type: ["tmpfs"] }, null, "mount"]))),
  (s, rnd) => {
    const caps = rnd.pick([["CAP_BOGUS"], ["NET_ADMIN"], [""], ["cap_chown"], ["CAP_CHOWN", "CAP_CHOWN"], [12], "CAP_KILL", ["CAP_" + "X".repeat(1000)]]);
    at(s, ["process"]).capabilities = { [rnd.pick(["bounding", "effective", "permitted", "inheritable", "ambient"])]: caps };
  },
  (s, rnd) =>
    (at(s, ["linux"]).seccomp = rnd.pick([
      { defaultAction: "SCMP_ACT_BOGUS" },
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["nonexistent_syscall"], action: "SCMP_ACT_ERRNO" }] },
      { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_BOGUS"] },
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 99, value: 2 ** 64, op: "SCMP_CMP_EQ" }] }] },
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 1, op: "SCMP_CMP_BOGUS" }] }] },
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: "read" },
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: [], action: "SCMP_ACT_KILL" }] },
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [null] },
      { defaultAction: 5 },
      { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: -1 },
      {},
      "unconfined",
    ])),
  (s, rnd) =>
    (at(s, ["process"]).rlimits = [
      { type: rnd.pick(["RLIMIT_NOFILE", "RLIMIT_BOGUS", "", "RLIMIT_NPROC", "RLIMIT_CORE"]), soft: rnd.pick(AWKWARD_NUMBERS), hard: rnd.pick(AWKWARD_NUMBERS) },
    ]),
  (s, rnd) => {
    const r = at(s, ["linux", "resources"]);
    const section = rnd.pick(["memory", "cpu", "pids", "blockIO", "devices", "unified", "hugepageLimits", "network", "rdma"]);
    const key = rnd.pick(["limit", "reservation", "swap", "shares", "quota", "period", "cpus", "mems", "weight", "realtimeRuntime"]);
    r[section] = section === "devices" ? [{ allow: rnd.chance(0.5), type: rnd.pick(["c", "b", "x", "a"]), major: rnd.pick(AWKWARD_NUMBERS), access: rnd.pick(["rwm", "bogus", ""]) }] : { [key]: rnd.chance(0.5) ? rnd.pick(AWKWARD_NUMBERS) : rnd.pick(["0-1000", "", "-1", "1,1,1", "a", "0-1"]) };
  },
  (s, rnd) => (at(s, ["linux"]).cgroupsPath = rnd.pick(["../../../..", "/", "", "relative/x", "/" + "c".repeat(300), "a:b:c", "/dev/null", "\n"])),
  (s, rnd) => (at(s, ["linux"]).sysctl = { [rnd.pick(["bogus.key", "net.ipv4.bogus", "kernel.bogus", "net..x", "", "fs.mqueue.bogus"])]: rnd.pick(AWKWARD_STRINGS.slice(0, 12)) }),
  (s, rnd) => (at(s, ["linux"]).devices = [{ path: rnd.pick(["/dev/bogus", "relative", "/dev/null"]), type: rnd.pick(["c", "b", "q"]), major: rnd.pick(AWKWARD_NUMBERS), minor: rnd.pick(AWKWARD_NUMBERS) }]),
  (s, rnd) => (at(s, ["linux"])[rnd.pick(["maskedPaths", "readonlyPaths"])] = [rnd.pick(["/proc/bogus", "relative", "/", "/dev/null/x", "/\u0000"])]),
  (s, rnd) => (at(s, ["linux"]).rootfsPropagation = rnd.pick(["bogus", "private", "rslave", "", 5])),
  (s, rnd) => (s.hostname = rnd.pick(["h".repeat(65), "h".repeat(64), "", "bad\u0000name", "\n", "ok-name"])),
  (s, rnd) => (at(s, ["process"]).user = { uid: rnd.pick(AWKWARD_NUMBERS), gid: rnd.pick(AWKWARD_NUMBERS), additionalGids: [rnd.pick(AWKWARD_NUMBERS)] }),
  (s, rnd) => (at(s, ["process"]).args = [rnd.pick(AWKWARD_STRINGS)]),
  (s, rnd) => (at(s, ["process"]).env = [rnd.pick(AWKWARD_STRINGS), "PATH=/bin"]),
  (s, rnd) => (at(s, ["process"]).cwd = rnd.pick(["/nonexistent", "relative", "/proc/self/fd/3", "/" + "c".repeat(5000), "/bin/busybox"])),
  (s, rnd) => (at(s, ["process"]).oomScoreAdj = rnd.pick(AWKWARD_NUMBERS)),
  (s, rnd) => (at(s, ["process"]).terminal = rnd.pick([true, "yes", 1])),
  (s, rnd) => (s.ociVersion = rnd.pick(["0.0.1", "99.0.0", "", 1, "1.0.0-rc\n"])),
  (s, rnd) => (s.root = rnd.pick([{ path: "/nonexistent/rootfs" }, { path: "" }, { path: rootfs, readonly: "yes" }, { readonly: true }, "rootfs", null])),
  (s, rnd) => (s.annotations = { [rnd.pick(AWKWARD_STRINGS)]: rnd.pick(AWKWARD_STRINGS) }),
  (s, rnd) => (s.hooks = { [rnd.pick(["prestart", "createRuntime", "poststop", "bogus"])]: [{ path: rnd.pick(["/bin/false", "relative", "/nonexistent"]) }] }),
  (s, rnd) => (s.process = rnd.pick([deep(3000), {}, null, []])),
];

/** One random mutation anywhere in the tree: replace, delete or add a value. */
function mutateAnywhere(spec: Record<string, unknown>, rnd: Random): void {
  const { node } = rnd.pick(containers(spec));
  const keys = Object.keys(node);
  const op = rnd.int(0, 2);
  if (Array.isArray(node)) {
    if (op === 0 && node.length > 0) node[rnd.int(0, node.length - 1)] = awkwardValue(rnd);
    else if (op === 1 && node.length > 0) node.splice(rnd.int(0, node.length - 1), 1);
    else node.push(awkwardValue(rnd));
  } else if (op === 0 && keys.length > 0) node[rnd.pick(keys)] = awkwardValue(rnd);
  else if (op === 1 && keys.length > 0) delete node[rnd.pick(keys)];
  else node[rnd.pick(["extra", "type", "path", "options", "x-\u00e9", ...keys])] = awkwardValue(rnd);
}

/** Keeps a mutated config from reaching the host if it happens to be valid. */
function defuse(spec: Record<string, unknown>): void {
  const linux = spec.linux as Record<string, unknown> | undefined;
  if (linux && Array.isArray(linux.namespaces)) {
    for (const ns of linux.namespaces) {
      if (ns && typeof ns === "object" && "path" in ns && typeof ns.path === "string" && ns.path.startsWith("/proc")) ns.path = "/nonexistent/ns";
    }
  }
  if (linux && typeof linux.rootfsPropagation === "string" && linux.rootfsPropagation.includes("shared")) linux.rootfsPropagation = "bogus";
  const root = spec.root as Record<string, unknown> | undefined;
  if (root && typeof root.path === "string" && root.path !== rootfs) root.path = "/nonexistent" + root.path;
  if (Array.isArray(spec.mounts)) {
    for (const m of spec.mounts) {
      if (!m || typeof m !== "object") continue;
      const mount = m as Record<string, unknown>;
      // bind mounts of host paths: only a source that does not exist
      if (typeof mount.source === "string" && mount.source.startsWith("/")) mount.source = "/nonexistent" + mount.source;
      if (Array.isArray(mount.options)) mount.options = mount.options.filter((o) => typeof o !== "string" || !o.includes("shared"));
    }
  }
}

interface Case {
  label: string;
  text: string;
}

/** Runs one config with `run --bundle` (or `create`), checks the outcome, deletes the id. */
async function attempt(c: Case, rnd: Random): Promise<string[]> {
  const bundle = join(dir, `b${counter % 4}`);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, "config.json"), c.text);
  const id = `fz-${process.pid}-${++counter}`;
  ids.add(id);
  const create = rnd.chance(0.25);
  const started = Date.now();
  const r = await mycr(create ? ["create", "--bundle", bundle, id] : ["run", "--bundle", bundle, id], { timeoutMs: TIMEOUT_MS });
  const problems = outcomeProblems(r, Date.now() - started, TIMEOUT_MS);
  if (create && ![0, 125, 126, 127].includes(r.exitCode)) problems.push(`create exited ${r.exitCode}`);
  if (existsSync(join(TEST_STATE, id)) || create) {
    const d = await mycr(["delete", "--force", id], { timeoutMs: TIMEOUT_MS });
    if (d.exitCode !== 0) problems.push(`delete --force: ${d.stderr.trim()}`);
  }
  return problems.map((p) => `${c.label}: ${p} (exit ${r.exitCode}, stderr ${JSON.stringify(r.stderr.slice(0, 300))})`);
}

function cases(rnd: Random, n: number): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    const spec = clone(base) as unknown as Record<string, unknown>;
    const steps: string[] = [];
    for (let k = rnd.int(1, 3); k > 0; k--) {
      if (rnd.chance(0.6)) {
        const rule = rnd.int(0, RULES.length - 1);
        RULES[rule]!(spec, rnd);
        steps.push(`rule ${rule}`);
      } else {
        mutateAnywhere(spec, rnd);
        steps.push("anywhere");
      }
    }
    defuse(spec);
    out.push({ label: `seed ${seed} case ${i} (${steps.join(", ")})`, text: JSON.stringify(spec) });
  }
  return out;
}

/** Broken files rather than broken values. */
function rawCases(rnd: Random): Case[] {
  const valid = JSON.stringify(base);
  const texts = [
    "", "null", "[]", "0", '"config"', "{", "\ufeff" + valid, valid.slice(0, rnd.int(1, valid.length - 1)),
    valid.replace("{", "{{"), "[".repeat(200_000), `{"ociVersion": "1.0.0", "root": ${"[".repeat(50_000)}}`,
    Buffer.from(Array.from({ length: 512 }, () => rnd.int(0, 255))).toString("latin1"),
    valid.replace('"process"', '"process": 1, "process"'), // duplicate key: the last one wins
  ];
  return texts.map((text, i) => ({ label: `seed ${seed} raw case ${i}`, text }));
}

test("random and mutated config.json: one-line errors or a working container, never a trace, hang or leak", async () => {
  const rnd = new Random(seed);
  const problems: string[] = [];
  const all = [...rawCases(rnd), ...cases(rnd, 160)];
  for (const [i, c] of all.entries()) {
    problems.push(...(await attempt(c, rnd)));
    if (i % 40 === 39) problems.push(...(await settledOwnLeaks(baseline, ids)).map((l) => `after ${c.label}: leak ${l}`));
  }
  problems.push(...(await settledOwnLeaks(baseline, ids)).map((l) => `leak ${l}`));
  expect(problems).toEqual([]);
}, 150_000);

test("the unmodified config runs (the fuzzer's base is valid)", async () => {
  const problems = await attempt({ label: "base", text: JSON.stringify(base) }, new Random(1));
  expect(problems).toEqual([]);
});

/** Inputs the fuzzer found (or that preparing it exposed), kept with the error each must give. */
const REGRESSIONS: Array<[string, (s: Record<string, unknown>) => void, string]> = [
  ["a newline in an env entry", (s) => (at(s, ["process"]).env = ["line one\nline two"]), 'process.env[0]: "line one\\nline two" is not KEY=VALUE'],
  ["cgroupsPath at the root", (s) => (at(s, ["linux"]).cgroupsPath = "/"), "linux.cgroupsPath: must name a cgroup below the root"],
  ["cgroupsPath above mycr's cgroup", (s) => (at(s, ["linux"]).cgroupsPath = "../../.."), "linux.cgroupsPath: must name a cgroup below the root"],
  ["cgroupsPath of a newline", (s) => (at(s, ["linux"]).cgroupsPath = "\n"), "linux.cgroupsPath: must name a cgroup below the root"],
  // No mount namespace is supported now (test/oci-namespaces.test.ts); the base's hostname still needs a UTS one.
  ["no mount namespace, a hostname without a UTS namespace", (s) => (at(s, ["linux"]).namespaces = [{ type: "pid" }]), "config.json: hostname: needs a UTS namespace of the container's own"],
  // issue 15: fields that were accepted and ignored
  ["linux.intelRdt", (s) => (at(s, ["linux"]).intelRdt = { closID: "x" }), "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by mycr"],
  ["linux.timeOffsets without a time namespace", (s) => (at(s, ["linux"]).timeOffsets = { boottime: { secs: 1 } }), "config.json: linux.timeOffsets: offsets need a new time namespace"],
  ["rdma limits for a device the host lacks", (s) => (at(s, ["linux", "resources"]).rdma = { mlx9_9: { hcaHandles: 1 } }), "linux.resources.rdma"],
  ["blockIO.leafWeight", (s) => (at(s, ["linux", "resources"]).blockIO = { leafWeight: 100 }), "linux.resources.blockIO.leafWeight"],
  ["hugepageLimits given as an object", (s) => (at(s, ["linux", "resources"]).hugepageLimits = { limit: 5 }), "config.json: linux.resources.hugepageLimits: must be an array"],
  ["a bind mount with filesystem data", (s) => arr(s, "mounts").unshift({ destination: "/x", type: "bind", source: "/nonexistent", options: ["bind", "mode=755"] }), 'config.json: mounts[0].options[1]: "mode=755" is not an option of a bind mount'],
  ["a mount namespace by path, a hostname without a UTS namespace", (s) => (at(s, ["linux"]).namespaces = [{ type: "pid" }, { type: "mount", path: "/proc/1/ns/mnt" }]), "config.json: hostname: needs a UTS namespace of the container's own"],
];

// Where the kernel has no AppArmor, a profile is refused (where it has, it is applied: test/oci-fields.test.ts)
if (!existsSync("/sys/module/apparmor/parameters/enabled") || readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() !== "Y") {
  REGRESSIONS.push(["process.apparmorProfile on a host without AppArmor", (s) => (at(s, ["process"]).apparmorProfile = "unconfined"), "config.json: process.apparmorProfile: AppArmor is not enabled"]);
}

for (const [name, change, error] of REGRESSIONS) {
  test(`regression: ${name}`, async () => {
    const spec = clone(base) as unknown as Record<string, unknown>;
    change(spec);
    const bundle = join(dir, "regression");
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
    const id = `fzr-${process.pid}-${++counter}`;
    ids.add(id);
    const r = await mycr(["run", "--bundle", bundle, id], { timeoutMs: TIMEOUT_MS });
    expect(outcomeProblems(r, 0, TIMEOUT_MS)).toEqual([]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain(error);
    expect(existsSync(join(TEST_STATE, id))).toBe(false);
  });
}

test("regression: a cgroupsPath naming a cgroup with processes is refused, and they live on", async () => {
  const cg = `/sys/fs/cgroup/pids/fuzz-busy-${process.pid}`;
  mkdirSync(cg);
  const sleeper = Bun.spawn(["sleep", "60"]);
  try {
    writeFileSync(join(cg, "cgroup.procs"), String(sleeper.pid));
    const spec = clone(base);
    spec.linux!.cgroupsPath = `/fuzz-busy-${process.pid}`;
    const bundle = join(dir, "regression");
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
    const r = await mycr(["run", "--bundle", bundle, `fzr-${process.pid}-busy`], { timeoutMs: TIMEOUT_MS });
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toBe(`mycr: cgroup ${cg} already has processes: a container needs a cgroup of its own\n`);
    expect(sleeper.exitCode).toBeNull();
  } finally {
    sleeper.kill(9);
    await sleeper.exited;
    for (let i = 0; i < 100 && existsSync(cg); i++) {
      Bun.spawnSync(["rmdir", cg], { stderr: "ignore" }); // EBUSY until the sleeper is reaped
      if (existsSync(cg)) await Bun.sleep(20);
    }
  }
});
