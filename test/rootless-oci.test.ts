// mycr's OCI runtime face for an ordinary user (docs/rootless.md, "The OCI runtime without
// root"): a bundle as `runc spec --rootless` writes it, created, started, entered, killed
// and deleted by the user itself, state in its $XDG_RUNTIME_DIR/mycr, no cgroup; then
// rootless podman (with its conmon) driving mycr as its runtime. Nothing stays behind:
// the user's state directory, its processes and podman's containers are checked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR } from "./helpers/env";
import { SECRET_ATTEMPT, SECRET_BREACH } from "./helpers/secret-attack";
import { runAsUser, userScratch, type UserResult } from "./helpers/rootless-scratch";
import { ROOTLESS, createRootlessUser, removeRootlessUser, rootlessLeftovers, rootlessStores, type RootlessUser } from "./helpers/rootless-user";
import type { Spec } from "../src/spec/types";

let user: RootlessUser;
let scratch: string;
let rootfs: string;
const haveRunc = Bun.spawnSync(["sh", "-c", "command -v runc"]).exitCode === 0;
const havePodman = Bun.spawnSync(["sh", "-c", "command -v podman && command -v conmon"]).exitCode === 0;

type Result = UserResult;

function asTheUser(binary: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Result> {
  return runAsUser(user, scratch, args, { binary, env, timeoutMs });
}

async function mycr(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return asTheUser(MYCR, args, env);
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const r = await mycr(args, env);
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} (as ${ROOTLESS.name}) exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

let bundles = 0;

/** A bundle of the user's: `runc spec --rootless` as the user (its own ids mapped to 0), adjusted. */
async function rootlessBundle(args: string[], adjust: (spec: Spec) => void = () => {}): Promise<string> {
  const dir = join(scratch, `bundle-${++bundles}`);
  mkdirSync(dir);
  chownSync(dir, user.uid, user.gid);
  const r = await asTheUser("runc", ["spec", "--rootless", "--bundle", dir]);
  if (r.exitCode !== 0) throw new Error(`runc spec --rootless: ${r.stderr}`);
  const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Spec;
  spec.root = { path: rootfs, readonly: true };
  spec.process!.terminal = false;
  spec.process!.args = args;
  adjust(spec);
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
  return dir;
}

function stateDirs(): string[] {
  try {
    return readdirSync(rootlessStores().state).filter((e) => !e.startsWith("."));
  } catch {
    return [];
  }
}

/** Running, not a zombie waiting for whoever adopted it. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

function processesOfUser(): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const status = readFileSync(`/proc/${p}/status`, "utf8");
        return !/^State:\s+Z/m.test(status) && Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === user.uid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(() => {
  user = createRootlessUser();
  ({ scratch, rootfs } = userScratch(user, "rootless-oci-"));
}, 60_000);

afterAll(async () => {
  if (havePodman) {
    await asTheUser("podman", ["rm", "-af"]).catch(() => undefined);
    // podman's pause process holds its user namespace open for the next podman command
    const pause = join(ROOTLESS.runtimeDir, "libpod/tmp/pause.pid");
    if (existsSync(pause)) Bun.spawnSync(["kill", "-KILL", readFileSync(pause, "utf8").trim()]);
    for (let i = 0; i < 40 && processesOfUser().length > 0; i++) await Bun.sleep(50); // until it is gone
  }
  // Containers or processes the user's mycr left stay for the runner's leak check.
  removeRootlessUser(false);
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!haveRunc)("the OCI runtime face as an ordinary user", () => {
  test("runc spec --rootless: create, state, start, exec, kill, delete; root inside is the user", async () => {
    const bundle = await rootlessBundle(["sleep", "60"]);
    const id = "rl-oci-life";
    await ok(["create", "--bundle", bundle, id]);
    // state lives where runc's rootless state does: the user's runtime dir, the user's own
    expect(statSync(join(rootlessStores().state, id)).uid).toBe(user.uid);
    expect(JSON.parse((await ok(["state", id])).stdout).status).toBe("created");
    await ok(["start", id]);
    const state = JSON.parse((await ok(["state", id])).stdout) as { status: string; pid: number };
    expect(state.status).toBe("running");
    // the container's init runs as the user on the host, in a user namespace of its own
    expect(Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${state.pid}/status`, "utf8"))?.[1])).toBe(user.uid);
    expect(readFileSync(`/proc/${state.pid}/uid_map`, "utf8").trim().split(/\s+/)).toEqual(["0", String(user.uid), "1"]);
    const inside = await ok(["exec", id, "sh", "-c", "id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map"]);
    const lines = inside.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines).toEqual(["0", "0", `0 ${user.uid} 1`, `0 ${user.gid} 1`]);
    const listed = (await ok(["list"])).stdout;
    expect(listed).toMatch(new RegExp(`^${id}\\s+${state.pid}\\s+running\\s+.*${ROOTLESS.name}$`, "m"));
    expect((await ok(["ps", id])).stdout).toContain("sleep 60");
    await ok(["kill", id, "KILL"]);
    for (let i = 0; i < 50 && JSON.parse((await ok(["state", id])).stdout).status !== "stopped"; i++) await Bun.sleep(50);
    await ok(["delete", id]);
    expect(stateDirs()).toEqual([]);
    expect(alive(state.pid)).toBe(false);
  });

  test("mycr spec --rootless: the user's own ids mapped to root, a network and cgroup namespace of its own", async () => {
    const dir = join(scratch, "mycr-spec");
    mkdirSync(dir);
    chownSync(dir, user.uid, user.gid);
    await ok(["spec", "--rootless", "--bundle", dir]);
    const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Spec;
    expect(spec.linux!.uidMappings).toEqual([{ containerID: 0, hostID: user.uid, size: 1 }]);
    spec.root = { path: rootfs, readonly: true };
    spec.process!.terminal = false;
    spec.process!.args = ["sh", "-c", "id -u; ls /sys/class/net; ls /sys/fs/cgroup | grep -c ."];
    writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
    const [uid, net, hierarchies] = (await ok(["run", "--bundle", dir, "rl-oci-own-spec"])).stdout.trim().split("\n");
    expect(uid).toBe("0");
    expect(net).toBe("lo");
    expect(Number(hierarchies)).toBeGreaterThan(0); // the cgroup filesystems, mounted in its own cgroup namespace
  });

  test("run --bundle with the user's subordinate range (newuidmap): ids past root land in the range", async () => {
    const out = join(scratch, "out");
    mkdirSync(out, { mode: 0o755 });
    chownSync(out, user.uid, user.gid);
    const bundle = await rootlessBundle(["sh", "-c", "cat /proc/self/uid_map; touch /out/by-root /out/by-app; chown 1000:1000 /out/by-app"], (spec) => {
      spec.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: ROOTLESS.subStart, size: ROOTLESS.subCount }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: ROOTLESS.subStart, size: ROOTLESS.subCount }];
      spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
      const caps = spec.process!.capabilities!;
      for (const set of [caps.bounding, caps.effective, caps.permitted]) set!.push("CAP_CHOWN"); // runc's rootless default lacks it
    });
    const r = await ok(["run", "--bundle", bundle, "rl-oci-subids"]);
    expect(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "))).toEqual([`0 ${user.uid} 1`, `1 ${ROOTLESS.subStart} ${ROOTLESS.subCount}`]);
    expect(statSync(join(out, "by-root")).uid).toBe(user.uid);
    expect(statSync(join(out, "by-app")).uid).toBe(ROOTLESS.subStart + 999);
    expect(statSync(join(out, "by-app")).gid).toBe(ROOTLESS.subStart + 999);
    expect(stateDirs()).toEqual([]);
  });

  test("a new network namespace has loopback only, up; sysfs is mounted for it, not bound", async () => {
    const bundle = await rootlessBundle(["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ls /sys/class/net; ip -o link show lo | grep -o ',UP'"], (spec) => {
      spec.linux!.namespaces!.push({ type: "network" });
      // a network namespace of its own user namespace's: sysfs may be mounted, and shows it
      const sys = spec.mounts!.find((m) => m.destination === "/sys")!;
      Object.assign(sys, { type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] });
    });
    const r = await ok(["run", "--bundle", bundle, "rl-oci-net"]);
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["lo", "lo", ",UP"]);
  });

  // How rootless podman and rootlesskit call a runtime: as root of the user's namespace,
  // with a config that has no user namespace of its own and namespaces given by path.
  test("as root of the user's own namespace: a network namespace by path is joined", async () => {
    const bundle = await rootlessBundle(["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; readlink /proc/self/ns/net; id -u"], (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "user" && n.type !== "network");
      spec.linux!.namespaces.push({ type: "network", path: "/nonexistent/NETNS" });
      delete spec.linux!.uidMappings;
      delete spec.linux!.gidMappings;
    });
    const script = [
      "unshare -n sleep 60 & sleep 0.3",
      `sed -i "s#/nonexistent/NETNS#/proc/$!/ns/net#" "$1/config.json"`,
      "readlink /proc/$!/ns/net",
      `"${MYCR}" run --bundle "$1" rl-oci-netns-path; status=$?`,
      "kill $!; exit $status",
    ].join("\n");
    // the same from the host, without the user namespace: one line, nothing left
    const fromHost = await mycr(["run", "--bundle", bundle, "rl-oci-netns-host"]);
    expect(fromHost.exitCode).not.toBe(0);
    expect(fromHost.stderr.trim().split("\n")).toHaveLength(1);
    expect(fromHost.stderr).toMatch(/^mycr: linux\.namespaces: joining \/nonexistent\/NETNS needs root of a user namespace/);
    expect(stateDirs()).toEqual([]);
    const r = await asTheUser("unshare", ["-Ur", "sh", "-c", script, "sh", bundle]);
    expect(r.exitCode).toBe(0);
    const [netns, dev, seen, uid] = r.stdout.trim().split("\n");
    expect(dev).toBe("lo");
    expect(seen).toBe(netns); // the namespace given by path, not a new one
    expect(uid).toBe("0");
    expect(stateDirs()).toEqual([]);
  });

  test("attack: container root reads or changes a root-owned 0600 host file bound into it", async () => {
    const dir = join(scratch, "secret");
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, "secret"), "root's secret\n", { mode: 0o600 });
    const bundle = await rootlessBundle(["sh", "-c", SECRET_ATTEMPT], (spec) => {
      spec.mounts!.push({ destination: "/s", type: "bind", source: dir, options: ["rbind", "rw"] });
      spec.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"] });
    });
    const r = await ok(["run", "--bundle", bundle, "rl-oci-secret"]);
    expect(r.stdout).not.toMatch(SECRET_BREACH);
    expect(r.stdout).toBe("65534\n"); // root's file is nobody's inside
    expect(readFileSync(join(dir, "secret"), "utf8")).toBe("root's secret\n");
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
  });

  test("a read-only bind of a nosuid,nodev,noexec mount keeps those flags (the kernel locks them) and is read-only", async () => {
    const dir = join(scratch, "locked");
    mkdirSync(dir);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,mode=755", "tmpfs", dir]).exitCode).toBe(0);
    try {
      writeFileSync(join(dir, "f"), "kept\n");
      const bundle = await rootlessBundle(["sh", "-c", "cat /l/f; touch /l/x 2>/dev/null && echo WROTE; grep ' /l ' /proc/self/mountinfo | cut -d' ' -f6"], (spec) => {
        spec.mounts!.push({ destination: "/l", type: "bind", source: dir, options: ["rbind", "ro"] });
      });
      const r = await ok(["run", "--bundle", bundle, "rl-oci-locked"]);
      expect(r.stdout).not.toContain("WROTE");
      const [content, flags] = r.stdout.trim().split("\n");
      expect(content).toBe("kept");
      expect(flags!.split(",")).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev", "noexec"]));
    } finally {
      Bun.spawnSync(["umount", dir]);
    }
  });

  test("limits with no writable cgroup: refused in one line naming the field, nothing left", async () => {
    const before = processesOfUser();
    const bundle = await rootlessBundle(["true"], (spec) => {
      spec.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
    });
    for (const verb of [["create", "--bundle", bundle, "rl-oci-limit"], ["run", "--bundle", bundle, "rl-oci-limit"]]) {
      const r = await mycr(verb);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^mycr: config\.json: linux\.resources\.memory: .*without a cgroup/);
      expect(stateDirs()).toEqual([]);
    }
    expect(processesOfUser().filter((p) => !before.includes(p))).toEqual([]);
    // device rules alone are no limit: no node can be made in a user namespace (they are bound in)
    const devices = await rootlessBundle(["sh", "-c", "echo > /dev/null && echo ok"], (spec) => {
      spec.linux!.resources = { devices: [{ allow: false, access: "rwm" }] };
    });
    expect((await ok(["run", "--bundle", devices, "rl-oci-devices"])).stdout).toBe("ok\n");
  });

  test("--systemd-cgroup with no user manager to ask (or no pure v2): refused in one line, never no cgroup, nothing left", async () => {
    const before = processesOfUser();
    // no limits either: the flag asked for a scope, a container without one would be a lie
    const bundle = await rootlessBundle(["true"]);
    const r = await mycr(["--systemd-cgroup", "create", "--bundle", bundle, "rl-oci-sdc"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    // this host: hybrid, or pure v2 without a manager for the test user (the VM test covers one with)
    expect(r.stderr).toMatch(/^mycr: (the systemd cgroup manager \(--systemd-cgroup\) needs a pure cgroup v2 host|--systemd-cgroup without root needs your systemd user manager, and none answers .*set XDG_RUNTIME_DIR=\/run\/user\/\d+)/);
    expect(stateDirs()).toEqual([]);
    expect(processesOfUser().filter((p) => !before.includes(p))).toEqual([]);
  });

  test("bad places are refused in one line: no XDG_RUNTIME_DIR, a --root not the user's", async () => {
    const bundle = await rootlessBundle(["true"]);
    const unset = await mycr(["create", "--bundle", bundle, "rl-oci-x"], { XDG_RUNTIME_DIR: "" });
    expect(unset.exitCode).not.toBe(0);
    expect(unset.stderr.trim().split("\n")).toHaveLength(1);
    expect(unset.stderr).toMatch(/^mycr: XDG_RUNTIME_DIR is not set/);
    const foreign = await mycr(["--root", "/run/mycr-not-yours", "create", "--bundle", bundle, "rl-oci-x"]);
    expect(foreign.exitCode).not.toBe(0);
    expect(foreign.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync("/run/mycr-not-yours")).toBe(false);
    // --root the user owns: used, as runc's
    const own = join(scratch, "own-root");
    mkdirSync(own, { mode: 0o700 });
    chownSync(own, user.uid, user.gid);
    await ok(["--root", own, "run", "--bundle", bundle, "rl-oci-own-root"]);
    expect(readdirSync(own)).toEqual([]);
  });
});

describe.skipIf(!havePodman)("rootless podman with mycr as its runtime", () => {
  const podman = (args: string[], timeoutMs = 120_000) =>
    asTheUser("podman", ["--cgroup-manager", "cgroupfs", "--runtime", MYCR, ...args], {}, timeoutMs);
  const podmanOk = async (args: string[]) => {
    const r = await podman(args);
    if (r.exitCode !== 0) throw new Error(`podman ${args.join(" ")} (as ${ROOTLESS.name}) exited ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    // an image from the user's busybox root, in the user's own podman storage
    const tar = join(scratch, "rootfs.tar");
    Bun.spawnSync(["tar", "-C", rootfs, "-cf", tar, "."]);
    chownSync(tar, user.uid, user.gid);
    await podmanOk(["import", "-q", tar, "localhost/rl-oci-busybox:1"]);
  }, 120_000);

  test("podman run --rm: root inside is the user, mapped through podman's namespace", async () => {
    const out = await podmanOk(["run", "--rm", "--network", "none", "localhost/rl-oci-busybox:1", "sh", "-c", "id -u; head -1 /proc/self/uid_map"]);
    const [uid, map] = out.trim().split("\n");
    expect(uid).toBe("0");
    expect(map!.trim().split(/\s+/)).toEqual(["0", String(user.uid), "1"]);
    expect(stateDirs()).toEqual([]);
  });

  test("podman run -d, exec, stop, rm", async () => {
    const id = (await podmanOk(["run", "-d", "--name", "rl-oci-web", "--network", "none", "localhost/rl-oci-busybox:1", "sleep", "300"])).trim();
    // mycr keeps the container's state in the user's runtime dir, under podman's id
    expect(stateDirs()).toEqual([id]);
    expect((await podmanOk(["exec", "rl-oci-web", "sh", "-c", "echo from exec; id -u"]))).toBe("from exec\n0\n");
    expect(await podmanOk(["ps", "--format", "{{.Names}} {{.Status}}"])).toMatch(/^rl-oci-web Up /m);
    await podmanOk(["stop", "-t", "1", "rl-oci-web"]);
    expect(await podmanOk(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).toMatch(/^rl-oci-web Exited /m);
    await podmanOk(["rm", "rl-oci-web"]);
    expect(await podmanOk(["ps", "-a", "-q"])).toBe("");
    expect(stateDirs()).toEqual([]);
  }, 60_000);
});

test("nothing is left behind: no container in the user's state dir, no process of the user's but podman's pause", async () => {
  const pauseFile = join(ROOTLESS.runtimeDir, "libpod/tmp/pause.pid");
  const pause = existsSync(pauseFile) ? readFileSync(pauseFile, "utf8").trim() : "";
  let left: string[] = [];
  for (let i = 0; i < 20; i++) {
    left = rootlessLeftovers().filter((l) => !l.startsWith("rootless test user") && !l.includes("/etc/sub") && !(pause && l.startsWith(`process ${pause} `)));
    if (left.length === 0) break;
    await Bun.sleep(100);
  }
  expect(left).toEqual([]);
  expect(stateDirs()).toEqual([]);
});
