// The native exec (MYCR_INIT=auto, the default, or native; docs/performance.md, "Design of
// the native exec"): `mycr exec` started by a C child that joins the container, no Bun
// start-up in it. What a user checks of the process reads back the same as with Bun's
// init (MYCR_INIT=bun): ids, capabilities, seccomp, its cgroup and namespaces, the
// container's PID 1, exit statuses and errors, signals, stdin, terminal, detach. And a
// container that replaces its init while an exec runs never gets the exec into the
// namespaces of the process that took its pid.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { holdInit, releaseInit } from "../src/runtime/exec-native";
import { processRef } from "../src/runtime/procfs";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { alive } from "./helpers/containers";
import { MYCR, WORK, mycrEnv } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
const name = `exec-native-${process.pid}`;
const INITS = ["native", "bun"] as const;

beforeAll(async () => {
  rootfs = busyboxRootfs();
  const r = await mycr(["run", "-d", "--name", name, "--network", "none", "--hostname", "box", "--rootfs", rootfs, "--", "sh", "-c", "while :; do sleep 1; done"]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
});
afterAll(async () => {
  await mycr(["rm", "-f", name]);
});

const exec = (init: string, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}) =>
  mycr(["exec", ...args], { env: { MYCR_INIT: init, MYCR_TRACE: "1" }, ...opts });

/** stderr without the trace's lines. */
const messages = (stderr: string) => stderr.split("\n").filter((l) => l !== "" && !/^mycr\[\d+\] [\d.]+ms /.test(l));

async function initPid(id: string): Promise<number> {
  return JSON.parse((await mycr(["state", id])).stdout).pid as number;
}

const NAMESPACES = ["pid", "mnt", "net", "uts", "ipc", "cgroup"];

/** What a user checks of an exec'd process from inside. */
const PROBE = [
  "id", "hostname", "pwd", "umask", "ulimit -n; ulimit -Hn", "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status",
  "tr '\\0' ' ' < /proc/1/cmdline; echo", "grep NSpid /proc/self/status | awk '{print NF}'",
  "cat /proc/self/cgroup", `for n in ${NAMESPACES.join(" ")}; do readlink /proc/self/ns/$n; done`, "env | sort",
].join("; ");

describe("native exec", () => {
  test("exec starts natively by default and under MYCR_INIT=native and auto, with Bun's init under bun", async () => {
    for (const init of ["native", "auto"]) {
      const r = await exec(init, [name, "true"]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("exec: native\n");
      expect(r.stderr).not.toContain("self: sealed"); // no Bun init ran
    }
    const bun = await exec("bun", [name, "true"]);
    expect(bun.exitCode).toBe(0);
    expect(bun.stderr).toContain("self: sealed"); // the binary Bun's init runs from
    expect(bun.stderr).not.toContain("exec: native");
  });

  test("the process reads back the same either way: ids, capabilities, seccomp, cwd, umask, env, cgroups, namespaces, the container's PID 1", { timeout: 60_000 }, async () => {
    const pid1 = readFileSync(`/proc/${await initPid(name)}/cmdline`, "utf8").replace(/\0/g, " ");
    const file = join(WORK, `exec-native-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({
      args: ["sh", "-c", PROBE], env: ["PATH=/bin", "FROM=file"], cwd: "/etc", user: { uid: 1000, gid: 1000, additionalGids: [29] },
      capabilities: { bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] }, noNewPrivileges: true,
      rlimits: [{ type: "RLIMIT_NOFILE", soft: 100, hard: 200 }],
    }));
    const variants = [[name], ["-u", "65534:65534", "-w", "/tmp/new/dir", "-e", "X=1", "--no-new-privs", name], ["-u", "nobody", name], ["--process", file, name]];
    try {
      for (const v of variants) {
        const args = [...v, ...(v.includes("--process") ? [] : ["sh", "-c", PROBE])];
        const native = await exec("native", args);
        const bun = await exec("bun", args);
        expect(messages(native.stderr)).toEqual([]);
        expect(native.exitCode).toBe(0);
        expect(native.stdout).toContain(`${pid1}\n2\n`); // PID 1 is the container's; NSpid: its own level only
        expect(native.stdout).toContain("box\n");
        expect(native.stdout).toBe(bun.stdout);
      }
    } finally {
      rmSync(file, { force: true });
    }
  });

  test("a detached exec's process is in the container's cgroups and namespaces (as the host sees it)", { timeout: 30_000 }, async () => {
    const init = await initPid(name);
    for (const mode of INITS) {
      const pidFile = join(WORK, `exec-native-${process.pid}-${mode}.pid`);
      const r = await exec(mode, ["-d", "--pid-file", pidFile, name, "sleep", "30"]);
      expect(messages(r.stderr)).toEqual([]);
      const pid = Number(readFileSync(pidFile, "utf8"));
      rmSync(pidFile);
      try {
        expect(alive(pid)).toBe(true);
        expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toBe(readFileSync(`/proc/${init}/cgroup`, "utf8"));
        for (const ns of NAMESPACES) expect(readlinkSync(`/proc/${pid}/ns/${ns}`)).toBe(readlinkSync(`/proc/${init}/ns/${ns}`));
        expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^NSpid:\t\d+\t\d+$/m);
      } finally {
        process.kill(pid, 9);
      }
    }
  });

  test("exit statuses and one-line errors are Bun's init's", { timeout: 90_000 }, async () => {
    const cases: string[][] = [
      [name, "sh", "-c", "exit 42"], [name, "nosuchcommand"], [name, "/no/such/thing"], [name, "/bin"], [name, "/etc/passwd"],
      [name, "sh", "-c", "kill -9 $$"], [name, ""], ["-u", "65534", "-w", "/root", name, "true"],
    ];
    // a hard limit above ours: CAP_SYS_RESOURCE (which this machine's root lacks) or a one-line error
    const file = join(WORK, `exec-native-rlimit-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ args: ["true"], cwd: "/", user: { uid: 0, gid: 0 }, rlimits: [{ type: "RLIMIT_NOFILE", soft: 1024, hard: -1 }] }));
    cases.push(["--process", file, name]);
    for (const args of cases) {
      const native = await exec("native", args);
      const bun = await exec("bun", args);
      expect({ args, code: native.exitCode, errors: messages(native.stderr) }).toEqual({ args, code: bun.exitCode, errors: messages(bun.stderr) });
    }
    rmSync(file);
  });

  test("stdin reaches the process; a terminal (-t) is its controlling one, of the container's devpts", { timeout: 30_000 }, async () => {
    for (const mode of INITS) {
      const piped = await exec(mode, ["-i", name, "sh", "-c", "cat; echo ."], { stdin: "from stdin\n" });
      expect(piped.stdout).toBe("from stdin\n.\n");
      const tty = await exec(mode, ["-t", name, "sh", "-c", "tty; [ \"$(cut -d' ' -f7 /proc/self/stat)\" != 0 ] && echo controlling"]);
      expect(messages(tty.stderr)).toEqual([]);
      expect(tty.stdout).toMatch(/^\/dev\/pts\/\d+\r\ncontrolling\r\n$/);
    }
  });

  test("signals sent to mycr exec reach the process; its exit status comes back", { timeout: 30_000 }, async () => {
    for (const mode of INITS) {
      const p = Bun.spawn([MYCR, "exec", name, "sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done"], {
        env: mycrEnv({ MYCR_INIT: mode }), stdout: "pipe", stderr: "pipe",
      });
      const reader = p.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("ready\n");
      p.kill("SIGTERM");
      expect(await p.exited).toBe(3);
    }
  });

  test("MYCR_INIT=native refuses, in one line, what the native exec does not cover; auto leaves it to Bun's init", { timeout: 30_000 }, async () => {
    const file = join(WORK, `exec-native-refused-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ args: ["id", "-u"], cwd: "/", user: { uid: 0, gid: 0 }, oomScoreAdj: 0 }));
    try {
      const refused = await exec("native", ["--process", file, name]);
      expect(refused.exitCode).toBe(125);
      expect(messages(refused.stderr)).toEqual(["mycr: MYCR_INIT=native: the native exec does not cover oomScoreAdj; unset MYCR_INIT to use Bun's init"]);
      const auto = await exec("auto", ["--process", file, name]);
      expect(auto.stdout).toBe("0\n");
      expect(auto.stderr).toContain("exec: Bun's init (the native exec does not cover oomScoreAdj)");
    } finally {
      rmSync(file, { force: true });
    }
    // a container whose seccomp profile refuses execveat: the stub could not start the program
    const bundle = await makeBundle(["sleep", "60"], (spec) => {
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["execveat"], action: "SCMP_ACT_ERRNO" }] };
    });
    const id = uniqueId("exec-native-seccomp");
    expect((await mycr(["run", "-d", "--bundle", bundle, id])).exitCode).toBe(0);
    try {
      const strict = await exec("native", [id, "true"]);
      expect(messages(strict.stderr)).toEqual(["mycr: MYCR_INIT=native: the native exec does not cover a seccomp profile that may refuse execveat, execve or fcntl (the exec stub's); unset MYCR_INIT to use Bun's init"]);
      const fallback = await exec("auto", [id, "sh", "-c", "echo ran"]);
      expect(fallback.stdout).toBe("ran\n");
      expect(fallback.stderr).toContain("exec: Bun's init (the native exec does not cover a seccomp profile");
    } finally {
      await mycr(["delete", "--force", id]);
    }
    const bad = await exec("sometimes", [name, "true"]);
    expect(bad.exitCode).toBe(125);
    expect(messages(bad.stderr)).toEqual(["mycr: MYCR_INIT=sometimes: use bun, native or auto"]);
  });

  test("the C compiled by TinyCC at run time (MYCR_NATIVE=tinycc) execs the same", async () => {
    const r = await mycr(["exec", name, "sh", "-c", "id -u; readlink /proc/self/ns/mnt"], { env: { MYCR_INIT: "native", MYCR_NATIVE: "tinycc" } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`0\n${readlinkSync(`/proc/${await initPid(name)}/ns/mnt`)}\n`);
  });
});

/** A process of ours (host namespaces) given `pid` through ns_last_pid, or null if others kept taking it. */
async function takePid(pid: number): Promise<ReturnType<typeof Bun.spawn> | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    writeFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
    const p = Bun.spawn(["sleep", "20"]);
    if (p.pid === pid) return p;
    p.kill(9);
    await p.exited;
    if (alive(pid)) await Bun.sleep(5); // still the old one (not reaped yet) or someone else's
  }
  return null;
}

describe("attack: a container's /etc/passwd and /etc/group made to hold the runtime that reads them", () => {
  test("a FIFO as /etc/passwd, /dev/zero behind /etc/group: exec -u NAME reads neither, answers in one line, repeatedly", { timeout: 60_000 }, async () => {
    const root = join(WORK, `exec-native-hostile-${process.pid}`);
    rmSync(root, { recursive: true, force: true });
    cpSync(rootfs, root, { recursive: true, verbatimSymlinks: true });
    const id = `exec-native-hostile-${process.pid}`;
    try {
      // the group file: a link to the container's /dev/zero (endless); the passwd file: a FIFO nobody writes to
      rmSync(join(root, "etc/group"));
      symlinkSync("/dev/zero", join(root, "etc/group"));
      expect((await mycr(["run", "-d", "--name", id, "--network", "none", "--rootfs", root, "--", "sleep", "60"])).exitCode).toBe(0);
      for (let round = 0; round < 3; round++) {
        // (not `id`: it would read the endless group file itself)
        const grouped = await exec("native", ["-u", "nobody", id, "grep", "-E", "^(Uid|Groups)", "/proc/self/status"], { timeoutMs: 10_000 });
        expect(grouped.stdout).toBe("Uid:\t65534\t65534\t65534\t65534\nGroups:\t65534 \n"); // the passwd entry's group, no list
        // swapped while the container runs: now a FIFO
        await exec("native", [id, "sh", "-c", "rm /etc/passwd && mkfifo /etc/passwd"]);
        const fifo = await exec("native", ["-u", "nobody", id, "id"], { timeoutMs: 10_000 });
        expect(fifo.exitCode).toBe(125);
        expect(messages(fifo.stderr)).toEqual(["mycr: unable to find user nobody: no matching entries in the container's /etc/passwd"]);
        await exec("native", [id, "sh", "-c", "rm /etc/passwd && echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > /etc/passwd"]);
      }
    } finally {
      await mycr(["rm", "-f", id]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("attack: a container plants a device where exec opens its terminal", () => {
  test("/dev/pts unmounted and another device at /dev/pts/ptmx: exec -t refuses it in one line, repeatedly", { timeout: 60_000 }, async () => {
    const bundle = await makeBundle(["sleep", "60"], (spec) => {
      const caps = ["CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_KILL"];
      spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
    });
    const id = uniqueId("exec-native-ptmx");
    expect((await mycr(["run", "-d", "--bundle", bundle, id])).exitCode).toBe(0);
    try {
      for (let round = 0; round < 3; round++) {
        // the container's own /dev/null device, where its pty multiplexer was
        const planted = await exec("native", [id, "sh", "-c", "umount /dev/pts && mknod /dev/pts/ptmx c 1 3 && echo planted"]);
        expect(planted.stdout).toBe("planted\n");
        const r = await exec("native", ["-t", id, "echo", "opened"]);
        expect(r.exitCode).toBe(125);
        expect(r.stdout).toBe("");
        expect(messages(r.stderr)).toEqual(["mycr: exec -t: the container's /dev/pts/ptmx is not a pty multiplexer"]);
        await exec("native", [id, "sh", "-c", "rm /dev/pts/ptmx && mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts"]);
        expect((await exec("native", ["-t", id, "echo", "opened"])).stdout).toBe("opened\r\n");
      }
    } finally {
      await mycr(["delete", "--force", id]);
    }
  });
});

describe("attack: a container replaces its init while exec joins it", () => {
  test("an init's pid taken by another process is refused when exec holds it, and once held it cannot be swapped", async () => {
    for (let round = 0; round < 5; round++) {
      const old = Bun.spawn(["sleep", "20"]);
      const ref = processRef(old.pid)!;
      const held = holdInit(ref, (pid) => pid === ref.pid);
      expect(held).not.toBeNull();
      expect(holdInit(ref, () => false)).toBeNull(); // not in the container's cgroup: not its init
      await Bun.sleep(30); // start times count in 10 ms ticks: the taker's differs
      old.kill(9);
      await old.exited;
      const taker = await takePid(ref.pid);
      expect(taker).not.toBeNull();
      try {
        // what exec opens from then on: nothing of the taker's
        expect(() => readFileSync(`/proc/self/fd/${held!.dir}/stat`)).toThrow();
        expect(() => readlinkSync(`/proc/self/fd/${held!.dir}/ns/mnt`)).toThrow();
        expect(holdInit(ref, () => true)).toBeNull();
        expect(holdInit(ref, (pid) => pid === ref.pid)).toBeNull();
        const own = holdInit(processRef(taker!.pid)!, () => true);
        expect(own).not.toBeNull();
        releaseInit(own!);
      } finally {
        releaseInit(held!);
        taker!.kill(9);
        await taker!.exited;
      }
    }
  });

  test("execs racing a container's init that exits, its pid taken by a host process: each runs in the container or fails in one line", { timeout: 120_000 }, async () => {
    const hostMnt = readlinkSync("/proc/self/ns/mnt");
    let ran = 0;
    let refused = 0;
    for (let round = 0; round < 4; round++) {
      for (const mode of INITS) {
        const id = `exec-race-${process.pid}-${mode}-${round}`;
        let taker: ReturnType<typeof Bun.spawn> | null = null;
        try {
          const r = await mycr(["run", "-d", "--name", id, "--network", "none", "--rootfs", rootfs, "--", "sh", "-c", "sleep 1"]);
          expect(r.exitCode).toBe(0);
          const pid = await initPid(id);
          const execs = [0, 250, 500, 750, 1000, 1250].map(async (delay) => {
            await Bun.sleep(delay);
            return exec(mode, [id, "readlink", "/proc/self/ns/mnt"]);
          });
          // the host takes the pid as soon as it is free
          for (let i = 0; i < 3000 && taker === null; i++) {
            if (!alive(pid)) taker = await takePid(pid);
            else await Bun.sleep(1);
          }
          const inside = new Set<string>();
          for (const e of await Promise.all(execs)) {
            expect(e.stdout).not.toContain(hostMnt); // the taker's (the host's) namespaces: never
            if (e.exitCode === 0) inside.add(e.stdout);
            else expect(messages(e.stderr).length).toBeLessThanOrEqual(1);
            if (e.exitCode === 0) ran++;
            else refused++;
          }
          expect(inside.size).toBeLessThanOrEqual(1); // all in the one container
        } finally {
          taker?.kill(9);
          await mycr(["rm", "-f", id]);
        }
      }
    }
    // the race was run: execs before the init's exit ran in the container, later ones were refused
    expect(ran).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
