// The OCI verbs in the forms podman and containerd's shim send them (`--root R --log L
// --log-format json VERB ...`), which mycr answers without loading its CLI
// (src/cli/oci-light.ts): the same answers, messages, log entries and exit codes as the
// CLI's, and every other form still reaches the CLI.
import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_STATE, WORK, mycrEnv } from "./helpers/env";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { alive } from "./helpers/containers";
import { mycr } from "./helpers/mycr";

/** containerd's shim: its state root, a JSON log it reads when a call fails. */
function shim(log: string) {
  // create leaves the container holding what it inherited: its output goes to files
  return (args: string[]) => mycr(["--root", TEST_STATE, "--log", log, "--log-format", "json", ...args], { leavesContainer: args[0] === "create" });
}

function logEntries(log: string): { level: string; msg: string; time: string }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

async function stateOf(call: (args: string[]) => ReturnType<typeof mycr>, id: string): Promise<{ status: string; pid?: number; id: string }> {
  const r = await call(["state", id]);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout);
}

async function untilStopped(call: (args: string[]) => ReturnType<typeof mycr>, id: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if ((await stateOf(call, id)).status === "stopped") return;
    await Bun.sleep(20);
  }
  throw new Error(`${id} never stopped`);
}

describe("the OCI verbs as containerd's shim calls them", () => {
  test("state, start, kill --all, kill, delete: the lifecycle, with nothing in the log", async () => {
    const log = join(WORK, `light-log-${process.pid}-1.json`);
    const call = shim(log);
    const bundle = await makeBundle(["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"]);
    const id = uniqueId("light");
    try {
      expect((await call(["create", "--bundle", bundle, id])).exitCode).toBe(0);
      const created = await stateOf(call, id);
      expect(created).toMatchObject({ id, status: "created" });
      const start = await call(["start", id]);
      expect([start.exitCode, start.stdout, start.stderr]).toEqual([0, "", ""]);
      expect((await stateOf(call, id)).status).toBe("running");
      await Bun.sleep(100); // the trap is set
      const term = await call(["kill", id, "TERM"]);
      expect([term.exitCode, term.stdout, term.stderr]).toEqual([0, "", ""]);
      await untilStopped(call, id);
      // what the shim sends after every exit: nothing left in the cgroup is no error
      expect((await call(["kill", "--all", id, "KILL"])).exitCode).toBe(0);
      const del = await call(["delete", id]);
      expect([del.exitCode, del.stdout, del.stderr]).toEqual([0, "", ""]);
      expect(existsSync(join(TEST_STATE, id))).toBe(false);
      expect(logEntries(log)).toEqual([]);
    } finally {
      await mycr(["delete", "--force", id]);
      rmSync(log, { force: true });
    }
  });

  test("those calls skip the CLI: a trace shows no CLI stage (the bench measures what that saves)", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("light-trace");
    const traced = (args: string[]) => mycr(["--root", TEST_STATE, ...args], { env: { MYCR_TRACE: "1" }, leavesContainer: args[0] === "create" });
    try {
      await traced(["create", "--bundle", bundle, id]);
      for (const args of [["state", id], ["start", id], ["kill", id, "KILL"], ["delete", "--force", id]]) {
        const r = await traced(args);
        expect(r.exitCode).toBe(0);
        const stages = r.stderr.split("\n").filter(Boolean).map((line) => line.replace(/^mycr\[\d+\] \S+ cpu \S+ /, ""));
        expect(stages[0]).toBe("main");
        expect(stages).not.toContain("cli");
      }
      const cli = await traced(["state", id.slice(0, -2)]); // a prefix: the CLI's
      expect(cli.stderr).toContain(" cli\n");
    } finally {
      await mycr(["delete", "--force", id]);
    }
  });

  test("a refused call is one line on stderr and one error entry in the JSON log, status 125", async () => {
    const log = join(WORK, `light-log-${process.pid}-2.json`);
    const call = shim(log);
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("light-refused");
    try {
      await call(["create", "--bundle", bundle, id]);
      await call(["start", id]);
      const cases: [string[], string][] = [
        [["start", id], `cannot start container ${id}: it is running`],
        [["delete", id], `cannot delete container ${id}: it is running (stop it first, or use --force)`],
      ];
      for (const [args, message] of cases) {
        const r = await call(args);
        expect(r.exitCode).toBe(125);
        expect(r.stderr).toBe(`mycr: ${message}\n`);
        const entries = logEntries(log);
        expect(entries.at(-1)).toMatchObject({ level: "error", msg: message });
        expect(Number.isNaN(Date.parse(entries.at(-1)!.time))).toBe(false);
      }
      expect(logEntries(log)).toHaveLength(cases.length); // one entry per failure, never two
      await call(["kill", id, "KILL"]);
      await untilStopped(call, id);
      const dead = await call(["kill", id, "KILL"]);
      expect(dead.stderr).toBe(`mycr: cannot kill container ${id}: container not running (it is stopped)\n`);
      expect(dead.exitCode).toBe(125);
      expect(logEntries(log).at(-1)!.msg).toBe(`cannot kill container ${id}: container not running (it is stopped)`);
    } finally {
      await mycr(["delete", "--force", id]);
      rmSync(log, { force: true });
    }
  });

  test("podman's forms (start ID, delete --force ID) and --flag=value spellings", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("light-podman");
    try {
      await mycr(["create", "--bundle", bundle, id], { leavesContainer: true });
      const pid = (await stateOf(mycr, id)).pid!;
      expect((await mycr([`--root=${TEST_STATE}`, "--log-format=json", "start", id])).exitCode).toBe(0);
      expect((await stateOf((a) => mycr([`--root=${TEST_STATE}`, ...a]), id)).status).toBe("running");
      const del = await mycr(["--systemd-cgroup", "delete", "--force", id]);
      expect([del.exitCode, del.stderr]).toEqual([0, ""]);
      for (let i = 0; i < 100 && alive(pid); i++) await Bun.sleep(20);
      expect(alive(pid)).toBe(false);
      expect(existsSync(join(TEST_STATE, id))).toBe(false);
      // runc's --force of a container that is not there succeeds (clients clean up with it)
      expect((await mycr(["delete", "--force", id])).exitCode).toBe(0);
    } finally {
      await mycr(["delete", "--force", id]);
    }
  });

  test("forms the light path leaves to the CLI still answer as before", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("light-cli");
    try {
      await mycr(["create", "--bundle", bundle, id], { leavesContainer: true });
      // a bad signal: named by the CLI, which also decides whether the word is a container
      const bad = await mycr(["kill", id, "SIGNOPE"]);
      expect([bad.exitCode, bad.stderr]).toEqual([125, 'mycr: unknown signal "SIGNOPE" (use a name such as TERM or KILL, or a number)\n']);
      // a prefix of the id (the docker face's), --help, --debug, a flag runc does not have
      expect(JSON.parse((await mycr(["state", id.slice(0, -2)])).stdout).id).toBe(id);
      expect((await mycr(["state", "--help"])).stdout).toContain("state");
      const debug = await mycr(["--debug", "state", id]);
      expect([debug.exitCode, JSON.parse(debug.stdout).status]).toEqual([0, "created"]);
      const unknown = await mycr(["delete", "--bogus", id]);
      expect(unknown.exitCode).toBe(125);
      expect(unknown.stderr).toContain("--bogus");
      const missing = await mycr(["state", "no-such-container"]);
      expect([missing.exitCode, missing.stderr]).toEqual([125, 'mycr: container "no-such-container" does not exist\n']);
    } finally {
      await mycr(["delete", "--force", id]);
    }
  });
});

describe("create in the forms podman and containerd send", () => {
  /** A bundle whose process writes what it sees into `out` (a host directory mounted at /out). */
  async function reportingBundle(out: string): Promise<string> {
    mkdirSync(out, { recursive: true });
    return makeBundle(["sh", "-c", "grep -o '_ses[^ :]*' /proc/keys > /out/keys; cat 2>/out/fd3.err >/out/fd3 <&3; true"], (spec) => {
      spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
    });
  }

  /** `create` as the shim sends it, with fd 3 of the caller open on `fd3`; traced. */
  async function shimCreate(args: string[], log: string, fd3: string): Promise<{ exitCode: number; stages: string[]; stderr: string }> {
    const err = join(WORK, `light-create-${process.pid}.err`);
    const fd = openSync(fd3, "r");
    try {
      const proc = Bun.spawn([MYCR, "--root", TEST_STATE, "--log", log, "--log-format", "json", "create", ...args], {
        stdio: ["ignore", "ignore", Bun.file(err), fd],
        env: mycrEnv({ MYCR_TRACE: "1" }),
      });
      const exitCode = await proc.exited;
      const stderr = readFileSync(err, "utf8");
      const stages = stderr.split("\n").filter((l) => /^mycr\[\d+\] /.test(l)).map((line) => line.replace(/^mycr\[\d+\] \S+ cpu \S+ /, ""));
      return { exitCode, stages, stderr: stderr.split("\n").filter((l) => l && !/^mycr\[\d+\] /.test(l)).join("\n") };
    } finally {
      closeSync(fd);
      rmSync(err, { force: true });
    }
  }

  test("--bundle, --pid-file, --no-new-keyring, --preserve-fds, -b, --no-pivot: no CLI stage, each flag applied", async () => {
    const log = join(WORK, `light-log-${process.pid}-3.json`);
    const out = join(WORK, `light-out-${process.pid}`);
    const pidFile = join(WORK, `light-pid-${process.pid}`);
    const handed = join(WORK, `light-fd3-${process.pid}`);
    writeFileSync(handed, "handed over\n");
    const bundle = await reportingBundle(out);
    const call = shim(log);
    const shared = uniqueId("light-create");
    const own = uniqueId("light-create-own");
    try {
      // containerd's shim: --bundle B --pid-file P, here with --no-new-keyring and one fd more
      const a = await shimCreate([`--bundle=${bundle}`, "--pid-file", pidFile, "--no-new-keyring", "--preserve-fds", "1", shared], log, handed);
      expect([a.exitCode, a.stderr]).toEqual([0, ""]);
      expect(a.stages[0]).toBe("main");
      expect(a.stages).not.toContain("cli");
      const created = await stateOf(call, shared);
      expect(created.status).toBe("created");
      expect(readFileSync(pidFile, "utf8").trim()).toBe(String(created.pid));
      expect((await call(["start", shared])).exitCode).toBe(0);
      await untilStopped(call, shared);
      expect(readFileSync(join(out, "fd3"), "utf8")).toBe("handed over\n");
      expect(readFileSync(join(out, "keys"), "utf8")).not.toContain(`_ses.${shared}`);
      // -b B and --no-pivot (which Bun's init covers, as the trace says), a keyring of its own
      const b = await shimCreate(["--no-pivot", "-b", bundle, own], log, handed);
      expect([b.exitCode, b.stderr]).toEqual([0, ""]);
      expect(b.stages).not.toContain("cli");
      expect(b.stages).toContain("launch: Bun's init (the native one does not cover --no-pivot)");
      expect((await call(["start", own])).exitCode).toBe(0);
      await untilStopped(call, own);
      expect(readFileSync(join(out, "keys"), "utf8").split("\n")).toContain(`_ses.${own}`);
      expect(readFileSync(join(out, "fd3.err"), "utf8")).toContain("Bad file descriptor"); // no --preserve-fds: fd 3 stays out
      expect(logEntries(log)).toEqual([]);
    } finally {
      await mycr(["delete", "--force", shared]);
      await mycr(["delete", "--force", own]);
      for (const f of [log, out, pidFile, handed]) rmSync(f, { recursive: true, force: true });
    }
  });

  test("a refused create is one line and one log entry, status 125, and leaves nothing", async () => {
    const log = join(WORK, `light-log-${process.pid}-4.json`);
    const call = shim(log);
    const empty = join(WORK, `light-empty-bundle-${process.pid}`);
    mkdirSync(empty, { recursive: true });
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("light-create-refused");
    const taken = uniqueId("light-create-taken");
    try {
      expect((await call(["create", "--bundle", bundle, taken])).exitCode).toBe(0);
      const cases: [string[], string][] = [
        [["create", "--bundle", empty, id], `${empty}: no config.json in this bundle (mycr spec writes one)`],
        [["create", "--bundle", bundle, "--preserve-fds", "x", id], "--preserve-fds x: must be a number of file descriptors"],
        [["create", "--bundle", bundle, taken], `container "${taken}" already exists`],
      ];
      for (const [args, message] of cases) {
        const before = logEntries(log).length;
        const r = await call(args);
        expect([r.exitCode, r.stderr]).toEqual([125, `mycr: ${message}\n`]);
        expect(logEntries(log).slice(before)).toEqual([expect.objectContaining({ level: "error", msg: message })]);
        expect(existsSync(join(TEST_STATE, id))).toBe(false);
      }
    } finally {
      await mycr(["delete", "--force", taken]);
      await mycr(["delete", "--force", id]);
      rmSync(log, { force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a warning reaches stderr and the JSON log in the words and shape the CLI's log gives it", async () => {
    // runc spec's default: ambient capabilities that are not inheritable, which mycr names
    const bundle = await makeBundle(["sleep", "30"], (spec) => {
      spec.process!.capabilities = { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"], ambient: ["CAP_KILL"] };
    });
    const message = "process.capabilities.ambient: CAP_KILL not raised: an ambient capability must also be in the inheritable and permitted sets";
    const ids: string[] = [];
    const logs: string[] = [];
    try {
      // the light path, then the CLI (--debug sends the call there)
      for (const global of [[], ["--debug"]]) {
        const id = uniqueId("light-create-warned");
        const log = join(WORK, `light-log-${process.pid}-w${ids.length}.json`);
        ids.push(id);
        logs.push(log);
        const r = await mycr([...global, "--root", TEST_STATE, "--log", log, "--log-format", "json", "create", "--bundle", bundle, id], { leavesContainer: true });
        expect([r.exitCode, r.stderr]).toEqual([0, `mycr: warning: ${message}\n`]);
        expect(logEntries(log)).toEqual([{ level: "warning", msg: message, time: expect.any(String) }]);
      }
    } finally {
      for (const id of ids) await mycr(["delete", "--force", id]);
      for (const log of logs) rmSync(log, { force: true });
    }
  });
});
