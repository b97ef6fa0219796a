// The OCI verbs in the forms podman and containerd's shim send them (`--root R --log L
// --log-format json VERB ...`), which mycr answers without loading its CLI
// (src/cli/oci-light.ts): the same answers, messages, log entries and exit codes as the
// CLI's, and every other form still reaches the CLI.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TEST_STATE, WORK } from "./helpers/env";
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
