// The everyday `run` flags, each read back from inside the container.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, WORK } from "./helpers/env";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
const vol = join(WORK, "flags-volume");
beforeAll(() => {
  rootfs = busyboxRootfs();
  rmSync(vol, { recursive: true, force: true });
  mkdirSync(vol, { recursive: true });
  writeFileSync(join(vol, "hello"), "from the host\n");
});
afterAll(() => rmSync(vol, { recursive: true, force: true }));

const run = (flags: string[], script: string, opts = {}) => mycr(["run", "--rootfs", rootfs, ...flags, "--", "/bin/sh", "-c", script], opts);

async function lines(flags: string[], script: string, opts = {}): Promise<string[]> {
  const r = await run(flags, script, opts);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return r.stdout.trim().split("\n");
}

describe("environment", () => {
  test("-e KEY=VALUE, -e KEY from mycr's environment, and a later value wins", async () => {
    const out = await lines(["-e", "A=1", "-e", "FROM_CALLER", "-e", "UNSET_HERE", "-e", "A=2", "-e", "EMPTY="], 'echo "$A|$FROM_CALLER|${UNSET_HERE-unset}|${EMPTY-unset}"', {
      env: { FROM_CALLER: "caller value" },
    });
    expect(out).toEqual(["2|caller value|unset|"]);
  });

  test("--env-file, with -e taking precedence; PATH can be replaced", async () => {
    const file = join(WORK, "flags.env");
    writeFileSync(file, "# a comment\n\nB=from file\n  C=x=y\nD\nPATH=/bin\n");
    const out = await lines(["--env-file", file, "-e", "C=from flag"], 'echo "$B|$C|$D|$PATH"', { env: { D: "passed" } });
    expect(out).toEqual(["from file|from flag|passed|/bin"]);
  });
});

describe("working directory and user", () => {
  test("-w sets the working directory and creates it when missing", async () => {
    expect(await lines(["-w", "/new/work/dir"], "pwd; ls -ld . | cut -c1")).toEqual(["/new/work/dir", "d"]);
    expect(await lines(["--workdir", "/etc"], "pwd")).toEqual(["/etc"]);
  });

  test("-u NAME: uid, primary and supplementary groups, HOME from the container's /etc", async () => {
    expect(await lines(["-u", "app"], "id; echo $HOME; grep Groups /proc/self/status")).toEqual([
      "uid=1000(app) gid=1000(app) groups=10(wheel),29(audio),1000(app)",
      "/home/app",
      "Groups:\t10 29 1000",
    ]);
  });

  test("-u NAME:GROUP, -u UID, -u UID:GID", async () => {
    expect(await lines(["-u", "app:audio"], "id; grep Groups /proc/self/status")).toEqual(["uid=1000(app) gid=29(audio) groups=29(audio)", "Groups:\t29"]);
    expect(await lines(["-u", "65534"], "id; echo $HOME")).toEqual(["uid=65534(nobody) gid=65534(nogroup) groups=29(audio),65534(nogroup)", "/nonexistent"]);
    expect(await lines(["-u", "4321:4321"], "id; echo $HOME")).toEqual(["uid=4321 gid=4321 groups=4321", "/"]);
  });

  test("without -u the command runs as root with HOME=/root", async () => {
    expect(await lines([], "id -u; echo $HOME")).toEqual(["0", "/root"]);
  });

  test("the user really lacks root's powers", async () => {
    const r = await run(["-u", "app"], "touch /etc/x");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Permission denied");
  });
});

describe("mounts", () => {
  test("-v binds a host directory read-write: writes reach the host", async () => {
    expect(await lines(["-v", `${vol}:/data`], "cat /data/hello; echo new > /data/written")).toEqual(["from the host"]);
    expect(readFileSync(join(vol, "written"), "utf8")).toBe("new\n");
  });

  test("-v ...:ro is read-only inside", async () => {
    const r = await run(["-v", `${vol}:/data:ro`], "cat /data/hello; touch /data/nope");
    expect(r.stdout).toBe("from the host\n");
    expect(r.stderr).toContain("Read-only file system");
    expect(existsSync(join(vol, "nope"))).toBe(false);
  });

  test("-v binds a single file, creating the mount point", async () => {
    expect(await lines(["-v", `${join(vol, "hello")}:/deep/er/file.txt:ro`], "cat /deep/er/file.txt")).toEqual(["from the host"]);
  });

  test("--tmpfs mounts a tmpfs with the given size and mode, nosuid,nodev,noexec by default", async () => {
    const out = await lines(["--tmpfs", "/scratch:size=1m,mode=700"], "grep ' /scratch ' /proc/self/mounts; stat -c %a /scratch");
    expect(out[0]).toMatch(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700 /);
    expect(out[1]).toBe("700");
  });

  test("--tmpfs over /tmp replaces the default one", async () => {
    const out = await lines(["--tmpfs", "/tmp:size=2m"], "grep -c ' /tmp ' /proc/self/mounts; grep ' /tmp ' /proc/self/mounts");
    expect(out[0]).toBe("1");
    expect(out[1]).toContain("size=2048k");
  });

  test("--read-only: the root cannot be written, /tmp and volumes still can", async () => {
    const r = await run(["--read-only", "-v", `${vol}:/data`], "touch /x; echo ok > /tmp/t && cat /tmp/t; echo v > /data/ro-test && echo vol-ok");
    expect(r.stderr).toContain("touch: /x: Read-only file system");
    expect(r.stdout).toBe("ok\nvol-ok\n");
  });
});

describe("process", () => {
  test("--entrypoint runs the program with the command's words as its arguments", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "--entrypoint", "/bin/echo", "--", "a", "b"]);
    expect(r.stdout).toBe("a b\n");
    const alone = await mycr(["run", "--rootfs", rootfs, "--entrypoint", "pwd"]);
    expect(alone.stdout).toBe("/\n");
  });

  test("--ulimit sets soft and hard limits (lowering needs no privilege)", async () => {
    expect(await lines(["--ulimit", "nofile=1024:2048", "--ulimit", "core=0"], "ulimit -n; ulimit -Hn; ulimit -c")).toEqual(["1024", "2048", "0"]);
    expect(await lines(["--ulimit", "nofile=512"], "ulimit -n; ulimit -Hn")).toEqual(["512", "512"]);
  });

  test("--init: PID 1 reaps orphans and passes SIGTERM on to a program that would ignore it as PID 1", async () => {
    const out = await lines(["--init"], "(sleep 0.1 &); sleep 0.5; ps -o stat,comm | grep -c '^Z' ; [ $$ != 1 ] && echo not-pid-1; cat /proc/1/comm");
    expect(out).toEqual(["0", "not-pid-1", "mycr"]);
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--init", "--", "sh", "-c", "echo ready; exec sleep 60"]);
    await bg.waitFor("ready");
    await Bun.sleep(100);
    bg.proc.kill("SIGTERM");
    expect((await bg.result()).exitCode).toBe(143); // sleep died of it
  });

  test("--init passes the exit status through", async () => {
    expect((await run(["--init"], "exit 9")).exitCode).toBe(9);
  });

  test("--name is recorded with the container", async () => {
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--name", "web-1.test_x", "--", "sh", "-c", "echo ready; sleep 60"]);
    await bg.waitFor("ready");
    const dirs = readdirSync(join(TEST_ROOT, "containers"));
    const records = dirs.map((d) => JSON.parse(readFileSync(join(TEST_ROOT, "containers", d, "container.json"), "utf8")));
    expect(records.some((r) => r.name === "web-1.test_x" && r.keep === false)).toBe(true);
    bg.proc.kill("SIGKILL");
    await bg.result();
    Bun.spawnSync([process.env.MYCR_BIN ?? join(import.meta.dir, "../dist/mycr"), "gc"], { env: { ...process.env, MYCR_ROOT: TEST_ROOT, MYCR_STATE: process.env.MYCR_TEST_STATE ?? "/run/mycr-test" } });
  });

  test("the root's overlay skips overlayfs's syncs (volatile: its files go at the exit), but not with --keep", async () => {
    // overlayfs otherwise syncs the upper dir's whole file system when the container's
    // exit unmounts it, before the exit is reported (docs/performance.md, "The root overlay's sync")
    const rootLine = "grep ' / / ' /proc/self/mountinfo";
    const [plain] = await lines([], rootLine);
    expect(plain).toContain(" - overlay ");
    expect(plain).toMatch(/[ ,](fsync=)?volatile(,|$)/);
    const kept = await run(["--keep"], rootLine);
    expect(kept.exitCode).toBe(0);
    expect(kept.stdout).toContain(" - overlay ");
    expect(kept.stdout).not.toContain("volatile");
    rmSync(join(/^mycr: kept the container's files in (\S+)\n$/.exec(kept.stderr)![1]!, ".."), { recursive: true, force: true });
  });

  test("--keep keeps the container's upper dir and says where", async () => {
    const r = await run(["--keep"], "echo kept > /file-in-upper");
    expect(r.exitCode).toBe(0);
    const m = /^mycr: kept the container's files in (\S+)\n$/.exec(r.stderr);
    expect(m).not.toBeNull();
    const upper = m![1]!;
    try {
      expect(readFileSync(join(upper, "file-in-upper"), "utf8")).toBe("kept\n");
      expect(JSON.parse(readFileSync(join(upper, "../container.json"), "utf8")).keep).toBe(true);
    } finally {
      rmSync(join(upper, ".."), { recursive: true, force: true });
    }
  });
});

describe("stdin", () => {
  test("-i passes a pipe and its end-of-file", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "-i", "--", "cat"], { stdin: "hi\n" });
    expect(r.stdout).toBe("hi\n");
    expect(r.exitCode).toBe(0);
  });

  test("without -i a pipe is still passed; -i=false gives /dev/null", async () => {
    expect((await mycr(["run", "--rootfs", rootfs, "cat"], { stdin: "piped\n" })).stdout).toBe("piped\n");
    const off = await mycr(["run", "--rootfs", rootfs, "-i=false", "--", "sh", "-c", "cat; stat -L -c %t:%T /proc/self/fd/0"], { stdin: "piped\n" });
    expect(off.stdout).toBe("1:3\n"); // nothing read; stdin is the null device
  });

  test("-t with a pipe: the command gets a terminal, the input and its end", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "-t", "--", "sh", "-c", "tty; read line; echo got:$line"], { stdin: "abc\n" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("/dev/pts/0\r\n");
    expect(r.stdout).toContain("got:abc\r\n");
  });
});
