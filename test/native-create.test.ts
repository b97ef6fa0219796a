// `create` + `start` with either init (MYCR_INIT=native, the default's choice, or bun;
// docs/performance.md "Design of the native init"): create sets the container up and
// leaves its process waiting on the exec fifo, before the program; start lets it exec.
// The native child waits with everything applied (user, capabilities, no_new_privs) and
// reopens the fifo through the host's /proc, never through a path in the container.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import type { Spec } from "../src/spec/types";

const INITS = ["native", "bun"] as const;
const scratch = join(WORK, `native-create-${process.pid}`);

beforeAll(() => mkdirSync(scratch, { recursive: true }));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface State {
  status: string;
  pid: number;
}

async function state(id: string): Promise<State> {
  const r = await mycr(["state", id]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as State;
}

/** A host directory bound at /out (the program's side effect goes there) and the bundle. */
async function bundleWritingTo(name: string, script: string, adjust: (spec: Spec) => void = () => {}): Promise<{ bundle: string; out: string }> {
  const out = join(scratch, name);
  mkdirSync(out, { recursive: true });
  chmodSync(out, 0o777); // the program may run as another user
  const bundle = await makeBundle(["sh", "-c", script], (spec) => {
    spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
    adjust(spec);
  });
  return { bundle, out };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function killedByTerm(bundle: string, env: Record<string, string>): Promise<void> {
  const id = uniqueId("termed");
  expect((await mycr(["create", "--bundle", bundle, id], { env })).exitCode).toBe(0);
  const pid = (await state(id)).pid;
  expect((await mycr(["kill", id, "TERM"])).exitCode).toBe(0);
  await waitFor(() => gone(pid), "the init sent SIGTERM");
  expect((await mycr(["delete", id])).exitCode).toBe(0);
}

const exe = (pid: number) => readlinkSync(`/proc/${pid}/exe`);

/** Gone or a zombie (its parent, create, has exited: reaping is its subreaper's). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return true;
  }
}

describe.each(INITS)("create and start with MYCR_INIT=%s", (init) => {
  const env = { MYCR_INIT: init, MYCR_TRACE: "1" };

  test("create leaves the process set up and waiting before the program; start runs it", async () => {
    const { bundle, out } = await bundleWritingTo(`ran-${init}`, "echo ran $GREETING > /out/ran; exec sleep 30", (spec) => {
      spec.process!.env!.push("GREETING=hello");
      spec.process!.user = { uid: 1000, gid: 1000 };
      spec.process!.noNewPrivileges = true;
      const kill = ["CAP_KILL"];
      spec.process!.capabilities = { bounding: kill, effective: kill, permitted: kill };
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["syslog"], action: "SCMP_ACT_ERRNO" }] };
    });
    const id = uniqueId(`created-${init}`);
    const created = await mycr(["create", "--bundle", bundle, id], { env });
    expect(created.exitCode).toBe(0);
    expect(created.stderr).toContain(init === "native" ? "launch: native child waits for start" : "init: config received");
    try {
      const s = await state(id);
      expect(s.status).toBe("created");
      expect(exe(s.pid)).not.toContain("busybox"); // not exec'd yet
      await Bun.sleep(100);
      expect(existsSync(join(out, "ran"))).toBe(false);
      if (init === "native") {
        // everything but the filter that needs no_new_privs is applied while it waits (runc's order)
        const status = readFileSync(`/proc/${s.pid}/status`, "utf8");
        expect(status).toMatch(/^Uid:\t1000\t1000\t1000\t1000$/m);
        expect(status).toMatch(/^NoNewPrivs:\t1$/m);
        expect(status).toMatch(/^CapEff:\t0000000000000020$/m);
        expect(status).toMatch(/^CapBnd:\t0000000000000020$/m);
        expect(status).toMatch(/^Seccomp:\t0$/m); // loaded with no_new_privs: after the wait, as runc
        // while it waits it holds nothing of the runtime's: stdio, the fifo, its own procfs,
        // and the sealed stub it starts the program through (CVE-2019-5736: never mycr's binary)
        const fds = readdirSync(`/proc/${s.pid}/fd`).map((fd) => readlinkSync(`/proc/${s.pid}/fd/${fd}`));
        expect(fds).toHaveLength(6);
        expect(fds.filter((f) => f.endsWith(`/${id}/exec.fifo`))).toHaveLength(1);
        expect(fds.filter((f) => f.startsWith("/memfd:mycr-exec-stub"))).toHaveLength(1);
        expect(fds.filter((f) => /^(mnt|net|uts|ipc|pid|socket|pipe|anon_inode):/.test(f))).toEqual([]);
      }
      const started = await mycr(["start", id]);
      expect(started.stderr).toBe("");
      expect(started.exitCode).toBe(0);
      // the shell creates the file before it writes to it: wait for the whole line
      await waitFor(() => existsSync(join(out, "ran")) && readFileSync(join(out, "ran"), "utf8").endsWith("\n"), "the program's line");
      expect(readFileSync(join(out, "ran"), "utf8")).toBe("ran hello\n"); // argv and env read after create exited
      const running = await state(id);
      expect(running).toMatchObject({ status: "running", pid: s.pid });
      await waitFor(() => exe(s.pid).endsWith("/busybox"), "the program's exec");
      expect(readFileSync(`/proc/${s.pid}/status`, "utf8")).toMatch(/^Seccomp:\t2$/m);
    } finally {
      await mycr(["delete", "-f", id]);
    }
    expect((await mycr(["state", id])).exitCode).not.toBe(0);
  });

  test("kill (KILL or TERM) or delete --force of a created container leaves nothing, and its program never runs", async () => {
    const { bundle, out } = await bundleWritingTo(`never-${init}`, "echo ran > /out/ran");
    const killed = uniqueId(`killed-${init}`);
    expect((await mycr(["create", "--bundle", bundle, killed], { env })).exitCode).toBe(0);
    const pid = (await state(killed)).pid;
    expect((await mycr(["kill", killed, "KILL"])).exitCode).toBe(0);
    await waitFor(() => gone(pid), "the killed init");
    for (let i = 0; i < 100 && (await state(killed)).status !== "stopped"; i++) await Bun.sleep(10);
    expect((await state(killed)).status).toBe("stopped");
    expect((await mycr(["delete", killed])).exitCode).toBe(0);

    // SIGTERM too (native only: Bun's init waits in a blocking call, its JS handlers cannot run): the
    // waiting process is PID 1 of its namespace, which ignores signals it has no handler for
    if (init === "native") await killedByTerm(bundle, env);

    const deleted = uniqueId(`deleted-${init}`);
    expect((await mycr(["create", "--bundle", bundle, deleted], { env })).exitCode).toBe(0);
    const pid2 = (await state(deleted)).pid;
    expect((await mycr(["delete", "--force", deleted])).exitCode).toBe(0);
    expect((await mycr(["state", deleted])).exitCode).not.toBe(0);
    expect(existsSync(join(out, "ran"))).toBe(false);
    await waitFor(() => gone(pid2), "the deleted container's init");
  });
});

describe("exec fifo swap", () => {
  // The attacker owns the root filesystem (here: a process outside that keeps rewriting it,
  // as another container sharing it would). The spec mounts no /proc, so /proc in the
  // root is the attacker's: /proc/self/fd/N become symlinks to a host file and to the
  // other container's fifo, over and over, while containers are created and started.
  test.each(INITS)("with MYCR_INIT=%s the root's /proc/self/fd links reach neither a host file nor another container's fifo", async (init) => {
    const rootfs = join(scratch, `attacker-root-${init}`);
    cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    const canary = join(scratch, `canary-${init}`);
    writeFileSync(canary, "host\n");
    const state = process.env.MYCR_TEST_STATE ?? "/run/mycr-test";
    const make = (name: string) =>
      bundleWritingTo(`${name}-${init}`, "echo ran > /out/ran", (spec) => {
        spec.root = { path: rootfs, readonly: false };
        spec.mounts = spec.mounts!.filter((m) => m.type !== "proc" && m.type !== "sysfs" && m.type !== "cgroup");
        spec.linux!.maskedPaths = [];
        spec.linux!.readonlyPaths = [];
      });
    const env = { MYCR_INIT: init };
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      const a = await make(`swap-a${round}`);
      const b = await make(`swap-b${round}`);
      const idA = uniqueId("swap-a");
      const idB = uniqueId("swap-b");
      const targets = [canary, join(state, idB, "exec.fifo"), join(state, idA, "exec.fifo")];
      const links = Array.from({ length: 12 }, (_, n) => n + 3)
        .map((n) => `ln -sfn ${targets[n % targets.length]} ${rootfs}/proc/self/fd/${n}`)
        .join("; ");
      const attacker = Bun.spawn(["sh", "-c", `mkdir -p ${rootfs}/proc/self/fd; while :; do ${links}; rm -rf ${rootfs}/proc/self/fd; mkdir -p ${rootfs}/proc/self/fd; done`], { stdout: "ignore", stderr: "ignore" });
      try {
        await Bun.sleep(20);
        expect((await mycr(["create", "--bundle", a.bundle, idA], { env })).exitCode).toBe(0);
        expect((await mycr(["create", "--bundle", b.bundle, idB], { env })).exitCode).toBe(0);
        await Bun.sleep(50);
        // neither ran before its start
        expect(existsSync(join(a.out, "ran"))).toBe(false);
        expect(existsSync(join(b.out, "ran"))).toBe(false);
        const startedA = await mycr(["start", idA]);
        expect(startedA.stderr).toBe("");
        expect(startedA.exitCode).toBe(0);
        await waitFor(() => existsSync(join(a.out, "ran")), "A's program");
        await Bun.sleep(50);
        expect(existsSync(join(b.out, "ran"))).toBe(false); // starting A did not start B
        expect((await mycr(["state", idB])).stdout).toContain('"status": "created"');
        expect((await mycr(["start", idB])).exitCode).toBe(0);
        await waitFor(() => existsSync(join(b.out, "ran")), "B's program");
        expect(readFileSync(canary, "utf8")).toBe("host\n");
      } finally {
        attacker.kill(9);
        await attacker.exited;
        await mycr(["delete", "-f", idA]);
        await mycr(["delete", "-f", idB]);
      }
    }
  }, 120_000);
});
