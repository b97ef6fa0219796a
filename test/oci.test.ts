// The OCI runtime face: runc's commands and flags, the runtime-spec's state machine.
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TEST_STATE, WORK } from "./helpers/env";
import type { Spec } from "../src/spec/types";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { alive } from "./helpers/containers";
import { mycr } from "./helpers/mycr";

async function state(id: string): Promise<{ status: string; pid?: number; id: string; bundle: string; ociVersion: string }> {
  const r = await mycr(["state", id]);
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout);
}

/** The processes whose parent is `pid` (from /proc, as ps would find them). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Whether the process runs: not gone, and not a zombie its parent has yet to reap. */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitStatus(id: string, status: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await state(id)).status === status) return;
    await Bun.sleep(20);
  }
  throw new Error(`${id} never became ${status}`);
}

describe("lifecycle", () => {
  test("create -> created (process waiting), start -> running, exit -> stopped, delete -> gone", async () => {
    const out = join(WORK, `oci-out-${process.pid}`);
    const bundle = await makeBundle(["sh", "-c", "echo started; sleep 0.5"]);
    const id = uniqueId("life");
    const pidFile = join(bundle, "pid");
    const created = await mycr(["create", "--bundle", bundle, "--pid-file", pidFile, id]);
    expect(created.stderr).toBe("");
    expect(created.exitCode).toBe(0);
    const s = await state(id);
    expect(s).toMatchObject({ ociVersion: "1.2.0", id, status: "created", bundle });
    expect(Number(readFileSync(pidFile, "utf8"))).toBe(s.pid!);
    expect(alive(s.pid!)).toBe(true);
    // the process must not have run yet: it is still mycr (Bun's init, or the native init's child of create), not sh
    expect(readFileSync(`/proc/${s.pid}/cmdline`, "utf8")).toMatch(/\0(init|create)(\0|$)/);
    expect((await mycr(["start", id])).exitCode).toBe(0);
    expect((await state(id)).status).toBe("running");
    await waitStatus(id, "stopped");
    expect((await state(id)).pid).toBeUndefined();
    expect((await mycr(["delete", id])).exitCode).toBe(0);
    const gone = await mycr(["state", id]);
    expect(gone.exitCode).toBe(125);
    expect(gone.stderr).toBe(`mycr: container "${id}" does not exist\n`);
    void out;
  });

  test("start of a container that is not created is refused", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("twice");
    await mycr(["create", "-b", bundle, id]);
    await mycr(["start", id]);
    const again = await mycr(["start", id]);
    expect(again.exitCode).toBe(125);
    expect(again.stderr).toBe(`mycr: cannot start container ${id}: it is running\n`);
    await mycr(["delete", "--force", id]);
  });

  test("kill and delete in every state", async () => {
    const bundle = await makeBundle(["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"]);
    // created: kill works, delete needs --force
    const a = uniqueId("created");
    await mycr(["create", "-b", bundle, a]);
    const refused = await mycr(["delete", a]);
    expect(refused.stderr).toBe(`mycr: cannot delete container ${a}: it is created (stop it first, or use --force)\n`);
    expect((await mycr(["delete", "--force", a])).exitCode).toBe(0);
    // running: signal by name, number, with and without SIG
    const b = uniqueId("running");
    await mycr(["create", "-b", bundle, b]);
    await mycr(["start", b]);
    await Bun.sleep(100);
    expect((await mycr(["kill", b, "TERM"])).exitCode).toBe(0);
    await waitStatus(b, "stopped");
    const dead = await mycr(["kill", b, "KILL"]);
    expect(dead.stderr).toBe(`mycr: cannot kill container ${b}: container not running (it is stopped)\n`);
    // --all reaches what is left in the cgroup (nothing): not an error, as in runc, and
    // what containerd's shim sends after every exit
    expect((await mycr(["kill", "--all", b, "KILL"])).exitCode).toBe(0);
    expect((await mycr(["delete", b])).exitCode).toBe(0);
    // paused: delete --force thaws and kills
    const c = uniqueId("paused");
    await mycr(["create", "-b", bundle, c]);
    await mycr(["start", c]);
    expect((await mycr(["pause", c])).exitCode).toBe(0);
    expect((await state(c)).status).toBe("paused");
    expect((await mycr(["delete", "--force", c])).exitCode).toBe(0);
    expect((await mycr(["state", c])).exitCode).toBe(125);
  });

  test("a bad signal is named", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("sig");
    await mycr(["create", "-b", bundle, id]);
    const r = await mycr(["kill", id, "SIGNOPE"]);
    expect(r.stderr).toBe('mycr: unknown signal "SIGNOPE" (use a name such as TERM or KILL, or a number)\n');
    await mycr(["kill", id, "9"]);
    await waitStatus(id, "stopped");
    await mycr(["delete", id]);
  });

  test("a container whose process died while mycr was not running is stopped and can be deleted", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("died");
    await mycr(["create", "-b", bundle, id]);
    await mycr(["start", id]);
    process.kill((await state(id)).pid!, "SIGKILL");
    await waitStatus(id, "stopped");
    expect((await mycr(["delete", id])).exitCode).toBe(0);
  });

  test("delete --force ends every process, with a PID namespace of its own and with the host's", async () => {
    // Its own: init's death ends the rest (delete waits for that). The host's: the others
    // outlive init and only the cgroup's freeze-and-kill ends them.
    const variants = { own: (_: Spec) => {}, host: (spec: Spec) => void (spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "pid")) };
    for (const [name, adjust] of Object.entries(variants)) {
      const bundle = await makeBundle(["sh", "-c", "sleep 600 & sleep 600 & wait"], adjust);
      for (let round = 0; round < 3; round++) {
        const id = uniqueId(`ends-${name}`);
        await mycr(["create", "-b", bundle, id], { leavesContainer: true });
        await mycr(["start", id]);
        const init = (await state(id)).pid!;
        let children: number[] = [];
        for (let i = 0; i < 200 && children.length < 2; i++, await Bun.sleep(10)) children = childrenOf(init);
        expect(children).toHaveLength(2);
        const r = await mycr(["delete", "--force", id]);
        expect(r.stderr).toBe("");
        expect(r.exitCode).toBe(0);
        expect([init, ...children].filter(runs)).toEqual([]);
        expect((await mycr(["state", id])).exitCode).toBe(125);
      }
    }
  });

  test("a container created by an earlier mycr (its record names no exec fifo) is running after start", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("earlier");
    await mycr(["create", "-b", bundle, id], { leavesContainer: true });
    const file = join(TEST_STATE, id, "state.json");
    const record = JSON.parse(readFileSync(file, "utf8"));
    expect(record.execFifo).toBe(true); // this mycr's start says "started" by removing the fifo
    delete record.execFifo;
    writeFileSync(file, JSON.stringify(record));
    expect((await state(id)).status).toBe("created");
    expect((await mycr(["start", id])).exitCode).toBe(0);
    expect((await state(id)).status).toBe("running");
    expect(JSON.parse(readFileSync(file, "utf8")).started).toBe(true);
    expect((await mycr(["delete", "--force", id])).exitCode).toBe(0);
  });

  test("delete --force removes a container whose bundle directory is gone (exited and running)", async () => {
    for (const exited of [true, false]) {
      const bundle = await makeBundle(["sleep", "30"]);
      const id = uniqueId("nobundle");
      await mycr(["create", "-b", bundle, id]);
      await mycr(["start", id]);
      if (exited) {
        process.kill((await state(id)).pid!, "SIGKILL");
        await waitStatus(id, "stopped");
      }
      rmSync(bundle, { recursive: true, force: true });
      const r = await mycr(["delete", "--force", id]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect((await mycr(["list", "-q"])).stdout.split("\n")).not.toContain(id);
      expect((await mycr(["state", id])).exitCode).not.toBe(0);
    }
  });

  test("pause freezes every process, resume thaws them", async () => {
    const marker = join(WORK, `ticks-${process.pid}`);
    mkdirSync(WORK, { recursive: true });
    const bundle = await makeBundle(["sh", "-c", "while :; do echo x >> /ticks/t; sleep 0.02; done"], (spec) => {
      spec.mounts!.push({ destination: "/ticks", type: "bind", source: WORK, options: ["rbind", "rw"] });
    });
    writeFileSync(join(WORK, "t"), "");
    const id = uniqueId("pause");
    await mycr(["create", "-b", bundle, id]);
    await mycr(["start", id]);
    await Bun.sleep(200);
    await mycr(["pause", id]);
    const frozenAt = readFileSync(join(WORK, "t"), "utf8").length;
    await Bun.sleep(200);
    expect(readFileSync(join(WORK, "t"), "utf8").length).toBe(frozenAt);
    const again = await mycr(["pause", id]);
    expect(again.stderr).toBe(`mycr: container ${id} is paused, not running\n`);
    await mycr(["resume", id]);
    await Bun.sleep(200);
    expect(readFileSync(join(WORK, "t"), "utf8").length).toBeGreaterThan(frozenAt);
    await mycr(["delete", "--force", id]);
    void marker;
  });
});

describe("run --bundle", () => {
  test("in the foreground: output and exit status are the container's, nothing is left", async () => {
    const bundle = await makeBundle(["sh", "-c", "echo hi; exit 7"]);
    const id = uniqueId("run");
    const r = await mycr(["run", "--bundle", bundle, id]);
    expect(r.stdout).toBe("hi\n");
    expect(r.exitCode).toBe(7);
    expect((await mycr(["state", id])).exitCode).toBe(125);
  });

  test("-d creates and starts, then returns", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("detach");
    const r = await mycr(["run", "-d", "--bundle", bundle, id]);
    expect(r.exitCode).toBe(0);
    expect((await state(id)).status).toBe("running");
    await mycr(["delete", "-f", id]);
  });

  test("an id that exists is refused", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("dup");
    await mycr(["create", "-b", bundle, id]);
    const r = await mycr(["create", "-b", bundle, id]);
    expect(r.stderr).toBe(`mycr: container "${id}" already exists\n`);
    expect(r.exitCode).toBe(125);
    await mycr(["delete", "-f", id]);
  });
});

describe("list, ps, spec, features", () => {
  test("list shows containers with their status; ps the processes of one", async () => {
    const bundle = await makeBundle(["sh", "-c", "sleep 30 & sleep 31"]);
    const id = uniqueId("list");
    await mycr(["run", "-d", "-b", bundle, id]);
    const list = JSON.parse((await mycr(["list", "--format", "json"])).stdout) as Array<{ id: string; status: string; pid: number }>;
    const mine = list.find((c) => c.id === id)!;
    expect(mine.status).toBe("running");
    await Bun.sleep(100);
    const pids = JSON.parse((await mycr(["ps", "--format", "json", id])).stdout) as number[];
    expect(pids).toContain(mine.pid);
    expect(pids.length).toBe(2);
    const table = await mycr(["ps", id]);
    expect(table.stdout).toContain("sleep 30");
    expect(table.stdout).toContain("sleep 31");
    expect((await mycr(["list", "-q"])).stdout.split("\n")).toContain(id);
    await mycr(["delete", "-f", id]);
  });

  test("spec writes a config.json that runs as is (after pointing it at a rootfs)", async () => {
    const dir = join(WORK, `spec-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    expect((await mycr(["spec", "-b", dir])).exitCode).toBe(0);
    const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(spec.ociVersion).toBe("1.2.0");
    expect(spec.process.args).toEqual(["sh"]);
    expect(spec.root.path).toBe("rootfs");
    const again = await mycr(["spec", "-b", dir]);
    expect(again.stderr).toBe(`mycr: ${dir}/config.json already exists: remove it first\n`);
  });

  test("features describes the runtime as JSON", async () => {
    const f = JSON.parse((await mycr(["features"])).stdout);
    expect(f.ociVersionMax).toBe("1.2.0");
    expect(f.linux.namespaces).toContain("pid");
    expect(f.mountOptions).toContain("rbind");
  });
});

describe("bad input", () => {
  const cases: Array<[string, (spec: Record<string, unknown>) => void, string]> = [
    ["empty args", (s) => ((s.process as Record<string, unknown>).args = []), "config.json: process.args: must not be empty"],
    ["relative cwd", (s) => ((s.process as Record<string, unknown>).cwd = "tmp"), 'config.json: process.cwd: must be an absolute path, not "tmp"'],
    ["no root", (s) => delete s.root, "config.json: root: is required on Linux"],
    ["uid as text", (s) => ((s.process as { user: Record<string, unknown> }).user.uid = "0"), "config.json: process.user.uid: must be an integer"],
    ["a mount without destination", (s) => ((s.mounts as unknown[])[0] = { type: "tmpfs" }), "config.json: mounts[0].destination: must be a string"],
    ["an unknown namespace", (s) => ((s.linux as { namespaces: unknown[] }).namespaces.push({ type: "bogus" })), 'config.json: linux.namespaces[6].type: unknown namespace type "bogus"'],
  ];
  for (const [name, mutate, message] of cases) {
    test(`config.json with ${name}`, async () => {
      const bundle = await makeBundle(["true"]);
      const path = join(bundle, "config.json");
      const spec = JSON.parse(readFileSync(path, "utf8"));
      mutate(spec);
      writeFileSync(path, JSON.stringify(spec));
      const id = uniqueId("bad");
      const r = await mycr(["create", "-b", bundle, id]);
      expect(r.stderr).toBe(`mycr: ${message}\n`);
      expect(r.exitCode).toBe(125);
      expect((await mycr(["state", id])).exitCode).toBe(125);
    });
  }

  test("not JSON, and no config.json", async () => {
    const bundle = await makeBundle(["true"]);
    writeFileSync(join(bundle, "config.json"), "{ nope");
    const r = await mycr(["create", "-b", bundle, uniqueId("nojson")]);
    expect(r.stderr).toStartWith("mycr: config.json: (file): not valid JSON");
    const empty = join(WORK, `empty-bundle-${process.pid}`);
    mkdirSync(empty, { recursive: true });
    const none = await mycr(["create", "-b", empty, uniqueId("none")]);
    expect(none.stderr).toBe(`mycr: ${empty}: no config.json in this bundle (mycr spec writes one)\n`);
  });

  test("--log with --log-format json records the error for OCI clients", async () => {
    const log = join(WORK, `log-${process.pid}.json`);
    const r = await mycr(["--log", log, "--log-format", "json", "start", "no-such-container"]);
    expect(r.exitCode).toBe(125);
    const entry = JSON.parse(readFileSync(log, "utf8").trim().split("\n").pop()!);
    expect(entry.level).toBe("error");
    expect(entry.msg).toBe('container "no-such-container" does not exist');
    expect(typeof entry.time).toBe("string");
  });

  test("--systemd-cgroup on a host that is not pure cgroup v2 is refused in one line, leaving nothing", async () => {
    // The systemd driver is tested on a real systemd host in test/systemd-vm.test.ts; here
    // (hybrid cgroups, no systemd) create must fail before anything exists.
    const bundle = await makeBundle(["true"], (spec) => {
      spec.linux = { ...spec.linux, cgroupsPath: "system.slice:mycr:x" };
    });
    const id = uniqueId("sd");
    const r = await mycr(["--systemd-cgroup", "create", "-b", bundle, id]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toMatch(/^mycr: the systemd cgroup manager \(--systemd-cgroup\) needs a pure cgroup v2 host; this one is (hybrid|v1)/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect((await mycr(["state", id])).exitCode).not.toBe(0);
  });

  test("MYCR_CGROUP_MANAGER: systemd where it cannot be used, or a bad value, is one line and nothing runs", async () => {
    const { busyboxRootfs } = await import("./helpers/rootfs");
    const marker = join(WORK, `cgm-${process.pid}`);
    const args = ["run", "--rootfs", busyboxRootfs(), "-v", `${WORK}:/w`, "--", "touch", `/w/cgm-${process.pid}`];
    const forced = await mycr(args, { env: { MYCR_CGROUP_MANAGER: "systemd" } });
    expect(forced.exitCode).toBe(125);
    expect(forced.stderr).toMatch(/^mycr: the systemd cgroup manager (\(--systemd-cgroup\) needs a pure cgroup v2 host|needs systemd's bus)/);
    const bad = await mycr(args, { env: { MYCR_CGROUP_MANAGER: "cgroupv3" } });
    expect(bad.stderr).toBe('mycr: MYCR_CGROUP_MANAGER=cgroupv3: must be "systemd" or "cgroupfs"\n');
    expect(bad.exitCode).toBe(125);
    const { existsSync } = await import("node:fs");
    expect(existsSync(marker)).toBe(false);
    // and cgroupfs, forced, is what this host uses anyway: the command runs
    const plain = await mycr(args, { env: { MYCR_CGROUP_MANAGER: "cgroupfs" } });
    expect(plain.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(true);
    (await import("node:fs")).rmSync(marker);
  });
});

describe("--preserve-fds and the session keyring", () => {
  test("--preserve-fds N hands the caller's fds 3.. to the process as 3..", async () => {
    const { openSync, closeSync } = await import("node:fs");
    const { MYCR, mycrEnv } = await import("./helpers/env");
    const file = join(WORK, `preserved-${process.pid}`);
    writeFileSync(file, "handed over\n");
    const bundle = await makeBundle(["sh", "-c", "cat <&3; ls /proc/self/fd | tr '\\n' ' '"]);
    const fd = openSync(file, "r");
    try {
      const r = Bun.spawnSync([MYCR, "run", "--preserve-fds", "1", "--bundle", bundle, uniqueId("fds")], {
        stdio: ["ignore", "pipe", "pipe", fd],
        env: mycrEnv(),
      });
      const [content, fds] = r.stdout.toString().split("\n");
      expect(content).toBe("handed over");
      expect(fds!.trim().split(" ").map(Number)).toEqual([0, 1, 2, 3, 4]); // 4: ls's own
      const none = Bun.spawnSync([MYCR, "run", "--bundle", bundle, uniqueId("nofds")], { stdio: ["ignore", "pipe", "pipe", fd], env: mycrEnv() });
      expect(none.stderr.toString()).toContain("Bad file descriptor");
    } finally {
      closeSync(fd);
    }
  });

  test("each container joins a session keyring of its own unless --no-new-keyring", async () => {
    const bundle = await makeBundle(["sh", "-c", "grep -o '_ses[^ :]*' /proc/keys; true"]);
    const id = uniqueId("keys");
    const own = await mycr(["run", "--bundle", bundle, id]);
    expect(own.stdout.split("\n")).toContain(`_ses.${id}`);
    // Only the container's own name is asked about: /proc/keys lists every keyring its uid
    // may view, and an exited container's stays listed until the kernel's key garbage
    // collector frees it (CI once saw the first run's here).
    const sharedId = uniqueId("shared");
    const shared = await mycr(["run", "--no-new-keyring", "--bundle", bundle, sharedId]);
    expect(shared.exitCode).toBe(0);
    expect(shared.stdout).not.toContain(`_ses.${sharedId}`);
  });
});
