// mycr as an ordinary user, no sudo: a user the test makes (with a subordinate range)
// runs a busybox root and a pulled image, is root inside, leaves files owned by its
// subordinate ids, cannot read root's files through a bind mount, reaches a server on
// the host's loopback through pasta's gateway, publishes a port with -p, and manages
// detached containers with ps, logs, exec, stop and rm. Nothing stays behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, globSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { MYCR, mycrEnv } from "./helpers/env";
import { buildFakeLoader } from "./helpers/probe";
import { SECRET_ATTEMPT, SECRET_BREACH } from "./helpers/secret-attack";
import { runAsUser, userScratch, type UserResult } from "./helpers/rootless-scratch";
import { OciLayout } from "./helpers/oci-layout";
import { push, startRegistry, type TestRegistry } from "./helpers/registry";
import { busyboxLayerEntries, makeTar } from "./helpers/tar";
import { ROOTLESS, asUser, createRootlessUser, removeRootlessUser, rootlessLeftovers, rootlessStores, setSubordinateIds, type RootlessUser } from "./helpers/rootless-user";

let user: RootlessUser;
let reg: TestRegistry;
let image: string;
/** An image with a file owned by an id beyond the user's range. */
let wideImage: string;
let scratch: string;
let tunMode: number | null = null;
/** The user's own busybox root (a root of root's files would be nobody's in its user namespace). */
let rootfs: string;

type Result = UserResult;

/** `mycr ARGS` as the test user. */
function as(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; binary?: string } = {}): Promise<Result> {
  return runAsUser(user, scratch, args, opts);
}

async function ok(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; binary?: string } = {}): Promise<Result> {
  const r = await as(args, opts);
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} (as ${ROOTLESS.name}) exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

/** Pids of the test user's processes whose command name matches (pasta calls itself passt.avx2 and the like). */
function userProcesses(name: RegExp): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const status = readFileSync(`/proc/${p}/status`, "utf8");
        const zombie = /^State:\s+Z/m.test(status); // dead, waiting for the host's init to reap it
        return !zombie && Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === user.uid && name.test(/^Name:\s+(\S+)/m.exec(status)?.[1] ?? "");
      } catch {
        return false;
      }
    })
    .map(Number);
}

const PASTA = /^(pasta|passt)/;
const SLIRP = /^slirp4netns/;
const FUSE = /^fuse-overlayfs/;

/** What a server on the host's 127.0.0.1:`port` says, trying for a while ("" if it never answers). */
async function answerAt(port: number): Promise<string> {
  let answer = "";
  for (let i = 0; i < 50 && answer === ""; i++) {
    answer = await new Promise<string>((resolve) => {
      let got = "";
      const s = connect({ host: "127.0.0.1", port }, () => undefined);
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(""));
    });
    if (answer === "") await Bun.sleep(100);
  }
  return answer;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A directory the test user owns, for volumes. */
function userDir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, user.uid, user.gid);
  return dir;
}

beforeAll(async () => {
  user = createRootlessUser();
  ({ scratch, rootfs } = userScratch(user, "rootless-"));
  // pasta opens /dev/net/tun as the user: udev makes it 0666 on most hosts; this one may not.
  tunMode = statSync("/dev/net/tun").mode & 0o777;
  if (tunMode !== 0o666) chmodSync("/dev/net/tun", 0o666);
  else tunMode = null;
  reg = await startRegistry();
  const layout = new OciLayout(join(scratch, "layout"));
  layout.tag(
    layout.image({
      layers: [
        { tar: makeTar(busyboxLayerEntries()) },
        { tar: makeTar([{ path: "owned", data: "mine\n", uid: 1234, gid: 1234 }, { path: "data/", type: "dir", uid: 1000, gid: 1000 }]) },
      ],
      config: { Cmd: ["sh", "-c", "echo hello from the image"], Env: ["PATH=/bin"] },
    }),
    "t",
  );
  image = `${reg.host}/rootless/busybox:1`;
  push(join(scratch, "layout"), "t", image);
  const wide = new OciLayout(join(scratch, "wide"));
  wide.tag(wide.image({ layers: [{ tar: makeTar([{ path: "far", data: "x", uid: ROOTLESS.subCount + 10, gid: 0 }]) }] }), "t");
  wideImage = `${reg.host}/rootless/wide:1`;
  push(join(scratch, "wide"), "t", wideImage);
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  if (tunMode !== null) chmodSync("/dev/net/tun", tunMode);
  // Containers or processes the user's mycr left stay for the runner's leak check.
  removeRootlessUser(false);
  rmSync(scratch, { recursive: true, force: true });
});

describe("rootless: mycr as an ordinary user", () => {
  test("a busybox root runs, and root inside is the user", async () => {
    const r = await ok(["run", "--rootfs", rootfs, "--network", "none", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map | wc -l"]);
    const [uid, gid, ranges] = r.stdout.trim().split("\n");
    expect(uid).toBe("0");
    expect(gid).toBe("0");
    expect(Number(ranges)).toBe(2); // the user itself, then its subordinate range
    // the files went where an ordinary user's go: its runtime dir and its home
    expect(statSync(rootlessStores().state).uid).toBe(user.uid);
    expect(statSync(rootlessStores().data).uid).toBe(user.uid);
    const info = (await ok(["info"])).stdout;
    expect(info).toContain("Rootless: true");
    expect(info).toContain(`Storage Root: ${rootlessStores().data}`);
    expect(info).toContain(`State Root: ${rootlessStores().state}`);
    expect(info).toContain("Cgroup Driver: none");
  });

  test("files the container creates belong to the user's subordinate ids on the host", async () => {
    const out = userDir("out");
    await ok(["run", "--rootfs", rootfs, "--network", "none", "-v", `${out}:/out`, "sh", "-c", "touch /out/by-root; touch /out/by-app; chown 1000:1000 /out/by-app"]);
    expect(statSync(join(out, "by-root")).uid).toBe(user.uid);
    expect(statSync(join(out, "by-root")).gid).toBe(user.gid);
    // container 1000 = namespace id 1000 = the 1000th id of the range (0 is the user itself)
    expect(statSync(join(out, "by-app")).uid).toBe(ROOTLESS.subStart + 999);
    expect(statSync(join(out, "by-app")).gid).toBe(ROOTLESS.subStart + 999);
  });

  test("a pulled image runs, its layers' owners shifted into the user's range", async () => {
    const r = await ok(["run", "--image", image, "--network", "none"], { timeoutMs: 90_000 });
    expect(r.stdout).toBe("hello from the image\n");
    const inside = await ok(["run", "--image", image, "--network", "none", "sh", "-c", "stat -c %u:%g /owned /data; id -u"]);
    expect(inside.stdout).toBe("1234:1234\n1000:1000\n0\n");
    // on the host: the unpacked layer in the user's storage, owned by subordinate ids
    const owned = globSync(join(rootlessStores().data, "layers/*/diff/owned"));
    expect(owned.length).toBe(1);
    expect(statSync(owned[0]!).uid).toBe(ROOTLESS.subStart + 1233);
    expect(statSync(owned[0]!).gid).toBe(ROOTLESS.subStart + 1233);
    const images = await ok(["images"]);
    expect(images.stdout).toContain("rootless/busybox");
    // save and load through the user's own store: the owners come back the same
    const archive = join(userDir("saved"), "busybox.tar");
    await ok(["save", "-o", archive, image]);
    await ok(["rmi", image]);
    expect((await ok(["images"])).stdout).not.toContain("rootless/busybox");
    await ok(["load", "-i", archive]);
    const loaded = await ok(["run", "--image", image, "--pull", "never", "--network", "none", "stat", "-c", "%u", "/owned"]);
    expect(loaded.stdout).toBe("1234\n");
  });

  test("an image with owners beyond the user's range: one line naming the entry, nothing half-stored", async () => {
    const r = await as(["pull", wideImage]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^mycr: .*"far"/);
    expect((await ok(["images"])).stdout).not.toContain("rootless/wide");
    expect(globSync(join(rootlessStores().data, "layers/*/diff/far"))).toEqual([]);
  });

  test("attack: container root reads or changes a host file only root may read, through a bind mount", async () => {
    const dir = join(scratch, "secret");
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, "secret"), "root's secret\n", { mode: 0o600 });
    const r = await as(["run", "--rootfs", rootfs, "--network", "none", "-v", `${dir}:/s`, "sh", "-c", SECRET_ATTEMPT]);
    expect(r.stdout).not.toMatch(SECRET_BREACH);
    expect(r.stdout.trim()).toBe("65534"); // the host's root is nobody in here
    expect(readFileSync(join(dir, "secret"), "utf8")).toBe("root's secret\n");
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
  });

  // CVE-2019-5736 for an ordinary user: its mycr is often its own file (~/bin/mycr), and the
  // container's root is that user, so only the seal stands between the container and the
  // binary. The hostile root's dynamic loader (test/fixtures/fake-loader.c) runs whenever
  // the binary is executed inside and tries to write to /proc/self/exe, at once and
  // through a held fd after mycr is gone.
  (buildFakeLoader() ? test : test.skip)("attack: container root overwrites the user's own mycr binary through /proc/self/exe", async () => {
    const dir = userDir("overwrite");
    const victim = join(dir, "mycr");
    copyFileSync(MYCR, victim);
    chmodSync(victim, 0o755);
    chownSync(victim, user.uid, user.gid);
    const sha = () => new Bun.CryptoHasher("sha256").update(readFileSync(victim)).digest("hex");
    const before = sha();
    const hostile = join(dir, "rootfs");
    Bun.spawnSync(["cp", "-a", rootfs, hostile]);
    mkdirSync(join(hostile, "lib64"), { recursive: true });
    copyFileSync(buildFakeLoader()!, join(hostile, "lib64/ld-linux-x86-64.so.2"));
    chmodSync(join(hostile, "lib64/ld-linux-x86-64.so.2"), 0o755);
    symlinkSync("/proc/self/exe", join(hostile, "self-link"));
    writeFileSync(join(hostile, "interp"), "#!/proc/self/exe\n", { mode: 0o755 });
    Bun.spawnSync(["chown", "-R", `${user.uid}:${user.gid}`, hostile]);
    const out = userDir("overwrite-out");
    const results: Result[] = [];
    for (let round = 0; round < 3; round++) {
      for (const path of ["/proc/self/exe", "/self-link", "/interp"]) {
        results.push(await as(["run", "--rootfs", hostile, "--network", "none", "-v", `${out}:/out`, "--", path], { binary: victim }));
      }
    }
    await ok(["run", "-d", "--name", "hostile", "--rootfs", hostile, "--network", "none", "-v", `${out}:/out`, "sleep", "300"], { binary: victim });
    try {
      for (let round = 0; round < 3; round++) {
        for (const path of ["/proc/self/exe", "/interp"]) results.push(await as(["exec", "hostile", path], { binary: victim }));
      }
    } finally {
      await as(["rm", "-f", "hostile"], { binary: victim });
    }
    await Bun.sleep(3500); // the held-fd shells retry for three seconds after their mycr is gone
    const log = existsSync(join(out, "log")) ? readFileSync(join(out, "log"), "utf8") : "";
    expect(sha()).toBe(before);
    for (const r of results) expect(r.stdout).not.toContain("PWNED");
    expect(log).not.toContain("PWNED");
    expect(log).toContain("LOADER"); // the binary did run inside: the seal, not a refusal, stopped it
  }, 120_000);

  test("pasta: a server on the host's loopback answers at the gateway, and -p publishes a port", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("host loopback\n") });
    try {
      const reach = `gw=$(ip route | awk '/^default/ {print $3}'); wget -O /tmp/answer http://$gw:${server.port}/ 2>/dev/null && cat /tmp/answer`;
      const r = await ok(["run", "--rootfs", rootfs, "sh", "-c", reach]);
      expect(r.stdout).toBe("host loopback\n");
    } finally {
      server.stop(true);
    }
    const port = 20000 + (process.pid % 20000);
    await ok(["run", "-d", "--name", "published", "--rootfs", rootfs, "-p", `127.0.0.1:${port}:80`, "sh", "-c", "while true; do echo published | nc -l -p 80; done"]);
    try {
      const ps = await ok(["ps"]);
      expect(ps.stdout).toContain(`127.0.0.1:${port}->80/tcp`);
      expect(await answerAt(port)).toBe("published\n");
    } finally {
      await ok(["rm", "-f", "published"]);
    }
  });

  test("slirp4netns: the host's loopback answers at 10.0.2.2, -p publishes a port through its API socket, and no slirp4netns is left", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("host loopback\n") });
    try {
      const reach = `ip -4 addr show tap0 | awk '/inet / {print $2}'; ip route | awk '/^default/ {print $3}'; cat /etc/resolv.conf; wget -O /tmp/answer http://10.0.2.2:${server.port}/ 2>/dev/null && cat /tmp/answer`;
      const r = await ok(["run", "--network", "slirp4netns", "--rootfs", rootfs, "sh", "-c", reach]);
      expect(r.stdout).toBe("10.0.2.100/24\n10.0.2.2\nnameserver 10.0.2.3\nhost loopback\n");
    } finally {
      server.stop(true);
    }
    expect(userProcesses(SLIRP)).toEqual([]);
    const port = 20000 + ((process.pid + 3) % 20000);
    await ok(["run", "-d", "--name", "slirp", "--network", "slirp4netns", "--rootfs", rootfs, "-p", `127.0.0.1:${port}:80`, "sh", "-c", "while true; do echo published | nc -l -p 80; done"]);
    try {
      expect(userProcesses(SLIRP).length).toBe(1);
      // it parses the container's packets: it runs under seccomp, in a mount namespace of its own (--enable-sandbox)
      const slirp = userProcesses(SLIRP)[0]!;
      const status = readFileSync(`/proc/${slirp}/status`, "utf8");
      expect(status).toMatch(/^Seccomp:\s+2$/m);
      const parent = /^PPid:\s+(\d+)/m.exec(status)![1]; // the mycr that runs the container
      expect(readlinkSync(`/proc/${slirp}/ns/mnt`)).not.toBe(readlinkSync(`/proc/${parent}/ns/mnt`));
      expect((await ok(["ps"])).stdout).toContain(`127.0.0.1:${port}->80/tcp`);
      expect(await answerAt(port)).toBe("published\n");
      // the same port again: refused by mycr's own claim before slirp4netns is asked
      const again = await as(["run", "--network", "slirp4netns", "--rootfs", rootfs, "-p", `127.0.0.1:${port}:80`, "true"]);
      expect(again.exitCode).toBe(125);
    } finally {
      await ok(["rm", "-f", "slirp"]);
    }
    for (let i = 0; i < 20 && userProcesses(SLIRP).length > 0; i++) await Bun.sleep(100);
    expect(userProcesses(SLIRP)).toEqual([]);
    // root's containers are on bridges: the user-mode networks are refused by name
    const asRoot = Bun.spawnSync([MYCR, "run", "--network", "slirp4netns", "--rootfs", rootfs, "true"], { env: mycrEnv() });
    expect({ code: asRoot.exitCode, stderr: asRoot.stderr.toString() }).toEqual({
      code: 125,
      stderr: "mycr: --network slirp4netns: for rootless containers; root's containers use bridge networks (the default)\n",
    });
  });

  test("a killed mycr takes its slirp4netns with it (the exit pipe closes); gc removes the container's files", async () => {
    const outer = Bun.spawn(asUser(user, ["run", "--network", "slirp4netns", "--rootfs", rootfs, "sleep", "100"]), { stdout: "ignore", stderr: "ignore" });
    try {
      // the program starts once slirp4netns is ready (its short-lived child, which hands over the tap device, is gone by then)
      let inner: number | undefined;
      for (let i = 0; i < 100 && (inner === undefined || userProcesses(/^sleep$/).length === 0); i++) {
        await Bun.sleep(100);
        inner = childrenOf(outer.pid)[0];
      }
      expect(userProcesses(SLIRP).length).toBe(1);
      process.kill(inner!, "SIGKILL");
      await outer.exited;
      for (let i = 0; i < 30 && userProcesses(SLIRP).length > 0; i++) await Bun.sleep(100);
      expect(userProcesses(SLIRP)).toEqual([]);
      await ok(["gc"]);
      expect(rootlessLeftovers().filter((l) => l.includes("container dir") || l.includes("state dir"))).toEqual([]);
    } finally {
      outer.kill(9);
    }
  });

  test("MYCR_STORAGE_DRIVER=fuse-overlayfs: the root is fuse-overlayfs's, owners and writes as with overlayfs, and no daemon or mount is left", async () => {
    const fuse = { MYCR_STORAGE_DRIVER: "fuse-overlayfs" };
    const mode = statSync("/dev/fuse").mode & 0o777;
    chmodSync("/dev/fuse", 0o666); // fuse-overlayfs opens it as the user: udev makes it 0666 on most hosts
    try {
      const r = await ok(["run", "--network", "none", "--image", image, "sh", "-c", "awk '$2 == \"/\" {print $3}' /proc/self/mounts; stat -c %u:%g /owned /data; echo new > /made && chown 1000:1000 /made && stat -c %u:%g /made; rm /owned; ls /owned 2>&1 | grep -c 'No such'"], { env: fuse });
      expect(r.stdout).toBe("fuse.fuse-overlayfs\n1234:1234\n1000:1000\n1000:1000\n1\n");
      expect(userProcesses(FUSE)).toEqual([]);
      // detached: the client's choice reaches the supervisor (started here by a run without it);
      // the mount lives while the container does, in the supervisor's namespace; rm takes both
      const plain = (await ok(["run", "-d", "--network", "none", "--rootfs", rootfs, "sleep", "300"])).stdout.trim();
      const id = (await ok(["run", "-d", "--network", "none", "--image", image, "sh", "-c", "echo kept > /kept; exec sleep 300"], { env: fuse })).stdout.trim();
      const rootType = "awk '$2 == \"/\" {print $3}' /proc/self/mounts";
      try {
        expect(userProcesses(FUSE).length).toBe(1);
        expect((await ok(["exec", id, "sh", "-c", `sleep 0.2; cat /kept; ${rootType}`])).stdout).toBe("kept\nfuse.fuse-overlayfs\n");
        expect((await ok(["exec", plain, "sh", "-c", rootType])).stdout).toBe("overlay\n");
      } finally {
        await ok(["rm", "-f", id, plain]);
      }
      for (let i = 0; i < 30 && userProcesses(FUSE).length > 0; i++) await Bun.sleep(100);
      expect(userProcesses(FUSE)).toEqual([]);
      // /dev/fuse closed to users: one line that says so, nothing left
      chmodSync("/dev/fuse", 0o600);
      const closed = await as(["run", "--network", "none", "--rootfs", rootfs, "true"], { env: fuse });
      expect(closed.exitCode).toBe(125);
      expect(closed.stderr.trim().split("\n").filter((l) => !l.includes("told once per boot"))).toEqual([expect.stringMatching(/^mycr: fuse-overlayfs: .*\/dev\/fuse.*mode 0666/)]);
      expect(userProcesses(FUSE)).toEqual([]);
    } finally {
      chmodSync("/dev/fuse", mode);
    }
    const bad = await as(["run", "--network", "none", "--rootfs", rootfs, "true"], { env: { MYCR_STORAGE_DRIVER: "zfs" } });
    expect({ code: bad.exitCode, stderr: bad.stderr }).toEqual({ code: 125, stderr: 'mycr: MYCR_STORAGE_DRIVER=zfs: mycr knows "overlay" (the kernel\'s) and "fuse-overlayfs" (rootless, for kernels before 5.11)\n' });
    // asked for, but not installed: one line that says what to install
    const bin = userDir("bin-without-fuse-overlayfs");
    for (const helper of ["newuidmap", "newgidmap"]) symlinkSync(`/usr/bin/${helper}`, join(bin, helper));
    const missing = await as(["run", "--network", "none", "--rootfs", rootfs, "true"], { env: { ...fuse, PATH: bin } });
    expect(missing.exitCode).toBe(125);
    expect(missing.stderr.trim().split("\n").filter((l) => !l.includes("told once per boot"))).toEqual(["mycr: MYCR_STORAGE_DRIVER=fuse-overlayfs: fuse-overlayfs is not installed: apt-get install fuse-overlayfs"]);
    // root's containers have the kernel's overlay: the fallback is refused by name, not ignored
    const asRoot = Bun.spawnSync([MYCR, "run", "--network", "none", "--rootfs", rootfs, "true"], { env: mycrEnv(fuse) });
    expect(asRoot.exitCode).toBe(125);
    expect(asRoot.stderr.toString()).toMatch(/^mycr: MYCR_STORAGE_DRIVER=fuse-overlayfs: for rootless runs/);
  });

  // Killed at several moments after pasta appears: before pasta has written its pid file
  // (it still configures the namespace, or is in the middle of its fork) as well as after.
  test("a killed mycr leaves pasta and the container's files: gc ends and removes them, whenever mycr was killed (repeated)", async () => {
    for (const delay of [0, 0, 5, 10, 20, 40, 80, 160]) {
      const port = 20000 + ((process.pid + 7 + delay) % 20000);
      const outer = Bun.spawn(asUser(user, ["run", "--rootfs", rootfs, "-p", `127.0.0.1:${port}:80`, "sleep", "100"]), { stdout: "ignore", stderr: "ignore" });
      try {
        // the second mycr (root of the user namespace) is the first's child; pasta runs once the container does
        let inner: number | undefined;
        for (let i = 0; i < 200 && (inner === undefined || userProcesses(PASTA).length === 0); i++) {
          await Bun.sleep(20);
          inner = childrenOf(outer.pid)[0];
        }
        expect(userProcesses(PASTA).length).toBeGreaterThan(0);
        await Bun.sleep(delay);
        process.kill(inner!, "SIGKILL");
        await outer.exited;
        await ok(["gc"]);
        // pasta was sent SIGTERM: it takes a moment to go
        for (let i = 0; i < 30 && userProcesses(PASTA).length > 0; i++) await Bun.sleep(100);
        expect({ delay, pasta: userProcesses(PASTA) }).toEqual({ delay, pasta: [] });
        expect(rootlessLeftovers().filter((l) => l.includes("container dir") || l.includes("state dir"))).toEqual([]);
      } finally {
        outer.kill(9);
      }
    }
  });

  test("detached: ps, logs, exec, stop and rm work the same", async () => {
    const id = (await ok(["run", "-d", "--name", "bg", "--rootfs", rootfs, "--network", "none", "sh", "-c", "echo up; exec sleep 300"])).stdout.trim();
    try {
      await detachedLifecycle(id);
    } finally {
      await as(["rm", "-f", "bg"]); // a failed step above must not strand it
    }
  });

  async function detachedLifecycle(id: string): Promise<void> {
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await ok(["ps"]);
    expect(ps.stdout).toContain("bg");
    expect(ps.stdout).toContain("Up ");
    let logs = "";
    for (let i = 0; i < 50 && !logs.includes("up"); i++) {
      logs = (await ok(["logs", "bg"])).stdout;
      if (!logs.includes("up")) await Bun.sleep(100);
    }
    expect(logs).toBe("up\n");
    // no cgroup lists them: top finds the container's processes by its PID namespace
    expect((await ok(["top", "bg"])).stdout).toContain("sleep 300");
    const exec = await ok(["exec", "bg", "sh", "-c", "id -u; tr '\\0' ' ' < /proc/1/cmdline"]);
    expect(exec.stdout).toBe("0\nsleep 300 ");
    // no cgroup here (none delegated): what needs one is refused in one line
    for (const [args, message] of [[["pause", "bg"], /^mycr: pause: rootless containers here run without a cgroup/], [["update", "--memory", "64m", "bg"], /^mycr: update: rootless containers here run without a cgroup/], [["stats", "--no-stream", "bg"], /^mycr: stats: container \w+ has no cgroup/]] as Array<[string[], RegExp]>) {
      const r = await as(args);
      expect(r.exitCode).toBe(125);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    await ok(["stop", "-t", "1", "bg"]);
    expect((await ok(["ps", "-a"])).stdout).toMatch(/bg/);
    expect((await ok(["ps"])).stdout).not.toMatch(/ bg\n/);
    await ok(["rm", "bg"]);
    expect((await ok(["ps", "-a"])).stdout).not.toContain("bg");
  }

  test("two subordinate ranges: the container's map keeps them apart, and ids past the first land in the second", async () => {
    setSubordinateIds([{ start: ROOTLESS.subStart, count: 1000 }, { start: ROOTLESS.secondStart, count: 2000 }]);
    try {
      const out = userDir("two-ranges");
      const r = await ok(["run", "--rootfs", rootfs, "--network", "none", "-v", `${out}:/out`, "sh", "-c", "cat /proc/self/uid_map | wc -l; touch /out/low /out/high; chown 999 /out/low; chown 1500 /out/high"]);
      expect(r.stdout).toBe("3\n");
      expect(statSync(join(out, "low")).uid).toBe(ROOTLESS.subStart + 998); // 1..1000 -> the first range
      expect(statSync(join(out, "high")).uid).toBe(ROOTLESS.secondStart + 499); // 1001..3000 -> the second
    } finally {
      setSubordinateIds(true);
    }
  });

  test("without subordinate ids: a single-id map, and a notice that says how to add a range", async () => {
    setSubordinateIds(false);
    try {
      const r = await ok(["run", "--rootfs", rootfs, "--network", "none", "sh", "-c", "id -u; cat /proc/self/uid_map | wc -l"]);
      expect(r.stdout).toBe("0\n1\n");
      expect(r.stderr).toContain(`no subordinate ids for ${ROOTLESS.name} in /etc/subuid`);
      expect(r.stderr).toContain("usermod --add-subuids");
    } finally {
      setSubordinateIds(true);
    }
  });

  test("what cannot work unprivileged is refused in one line", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["run", "--rootfs", rootfs, "--memory", "64m", "true"], /^mycr: --memory: limits need a cgroup/],
      [["run", "--rootfs", rootfs, "--network", "bridge", "true"], /^mycr: --network bridge: bridge networks need root/],
      [["run", "--rootfs", rootfs, "--storage-opt", "size=10m", "true"], /^mycr: --storage-opt size: project quotas need root/],
      [["network", "create", "mine"], /^mycr: network: networks are bridges on the host and need root/],
    ];
    for (const [args, message] of cases) {
      const r = await as(args);
      expect(r.exitCode).toBe(125);
      expect(r.stderr.trim().split("\n").filter((l) => !l.includes("told once per boot"))).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
    // pasta's tap device closed to users (some hosts' /dev/net/tun is 0600): one line that says so
    const mode = statSync("/dev/net/tun").mode & 0o777;
    chmodSync("/dev/net/tun", 0o600);
    try {
      const closed = await as(["run", "--rootfs", rootfs, "true"]);
      expect(closed.exitCode).toBe(125);
      expect(closed.stderr.trim().split("\n").filter((l) => !l.includes("told once per boot"))).toHaveLength(1);
      expect(closed.stderr).toMatch(/^mycr: pasta: .*tun.*\/dev\/net\/tun open to users: mode 0666/m);
    } finally {
      chmodSync("/dev/net/tun", mode);
    }
    const unset = await as(["ps"], { env: { XDG_RUNTIME_DIR: "" } });
    expect(unset.exitCode).toBe(125);
    expect(unset.stderr).toMatch(/^mycr: XDG_RUNTIME_DIR is not set/);
  });

  test("nothing is left behind: no container in the user's stores, no process of the user's", async () => {
    await ok(["rmi", image]);
    let left: string[] = [];
    for (let i = 0; i < 20; i++) {
      left = rootlessLeftovers().filter((l) => !l.startsWith("rootless test user") && !l.includes("/etc/sub"));
      if (left.length === 0) break;
      await Bun.sleep(100);
    }
    expect(left).toEqual([]);
  });
});
