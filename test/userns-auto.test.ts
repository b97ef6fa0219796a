// mycr run --userns=auto: root inside is a private block of 65536 host ids, not the host's root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const IMAGE = `localhost/mycr-test/userns-auto-${process.pid}:1`;
const POOL_START = 2 ** 31;
const blocksDir = join(TEST_ROOT, "userns");
const dir = join(WORK, `userns-auto-${process.pid}`);

const blocks = () => {
  try {
    return readdirSync(blocksDir);
  } catch {
    return [];
  }
};

/** The map line of /proc/self/uid_map, split: [inside, host, count]. */
const mapOf = (text: string) => text.trim().split(/\s+/).map(Number);

async function runAuto(args: string[], script: string) {
  return mycr(["run", "--network", "none", "--userns=auto", ...args, "--image", IMAGE, "--", "/bin/sh", "-c", script]);
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  const tar = join(dir, "root.tar");
  expect(Bun.spawnSync(["tar", "-C", busyboxRootfs(), "--owner=0", "--group=0", "-cf", tar, "."]).exitCode).toBe(0);
  const r = await mycr(["import", tar, IMAGE]);
  expect(r.exitCode).toBe(0);
});

afterAll(async () => {
  await mycr(["rmi", IMAGE]);
  rmSync(dir, { recursive: true, force: true });
});

test("root inside is uid 0, mapped to a block from 2^31; image files look root's; the block goes with the run", async () => {
  const r = await runAuto([], "id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map; stat -c %u:%g /bin/busybox /etc/passwd; touch /new && echo wrote");
  expect(r.stderr).toBe("");
  const [uid, gid, uidMap, gidMap, busybox, passwd, wrote] = r.stdout.trim().split("\n");
  expect([uid, gid]).toEqual(["0", "0"]);
  const [inside, host, count] = mapOf(uidMap!);
  expect(inside).toBe(0);
  expect(count).toBe(65536);
  expect(host! >= POOL_START && (host! - POOL_START) % 65536 === 0).toBe(true);
  expect(mapOf(gidMap!)).toEqual([0, host!, 65536]);
  expect([busybox, passwd, wrote]).toEqual(["0:0", "0:0", "wrote"]);
  expect(blocks()).toEqual([]);
});

test("a file the container's root creates in a volume belongs on the host to the block's root, not to root", async () => {
  const vol = join(dir, "vol");
  mkdirSync(vol, { recursive: true });
  chmodSync(vol, 0o777);
  const r = await runAuto(["-v", `${vol}:/data`], "touch /data/made; cat /proc/self/uid_map");
  expect(r.stderr).toBe("");
  const host = mapOf(r.stdout)[1]!;
  const st = statSync(join(vol, "made"));
  expect([st.uid, st.gid]).toEqual([host, host]);
  expect(host).toBeGreaterThanOrEqual(POOL_START);
});

test("two containers at once get different blocks, each freed by rm", async () => {
  const ids: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const r = await mycr(["run", "-d", "--network", "none", "--userns=auto", "--image", IMAGE, "--", "/bin/sleep", "60"]);
      expect(r.exitCode).toBe(0);
      ids.push(r.stdout.trim());
    }
    expect(blocks().length).toBe(2);
    const maps = await Promise.all(ids.map((id) => mycr(["exec", id, "cat", "/proc/self/uid_map"])));
    const hosts = maps.map((m) => mapOf(m.stdout)[1]!);
    expect(new Set(hosts).size).toBe(2);
    // their root filesystems are reachable from inside their user namespaces; the records are still root's alone
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(join(TEST_ROOT, "containers"))).toBe(0o700);
    for (const [i, id] of ids.entries()) {
      const remapped = statSync(join(TEST_ROOT, "remapped", id));
      expect([mode(join(TEST_ROOT, "containers", id)), remapped.mode & 0o777, remapped.uid, remapped.gid]).toEqual([0o700, 0o710, 0, hosts[i]!]);
    }
    // each block file names its container
    const owners = blocks().map((b) => readFileSync(join(blocksDir, b), "utf8")).sort();
    expect(owners).toEqual([...ids].sort());
  } finally {
    for (const id of ids) await mycr(["rm", "-f", id]);
  }
  expect(blocks()).toEqual([]);
});

test("escape through a bind mount: the remapped root cannot write, chmod or chown a root-owned host file, try after try", async () => {
  const vol = join(dir, "secrets");
  mkdirSync(vol, { recursive: true });
  chmodSync(vol, 0o755);
  const secret = join(vol, "shadow");
  writeFileSync(secret, "root only\n", { mode: 0o644 });
  const attempts = Array.from({ length: 10 }, () => "echo owned > /data/shadow; chmod 666 /data/shadow; chown 0 /data/shadow; rm -f /data/shadow; echo x > /data/new").join("; ");
  const r = await runAuto(["-v", `${vol}:/data`], `${attempts}; id -u`);
  expect(r.stdout.trim()).toBe("0"); // root inside, all the same
  expect(r.stderr).toContain("Permission denied");
  expect(readFileSync(secret, "utf8")).toBe("root only\n");
  const st = statSync(secret);
  expect([st.uid, st.mode & 0o777]).toEqual([0, 0o644]);
  expect(readdirSync(vol)).toEqual(["shadow"]);
});

test("gc frees a block whose run was killed before its container existed", async () => {
  mkdirSync(blocksDir, { recursive: true });
  const orphan = join(blocksDir, "7");
  writeFileSync(orphan, "0".repeat(64));
  const old = new Date(Date.now() - 60_000);
  utimesSync(orphan, old, old);
  const r = await mycr(["gc"]);
  expect(r.exitCode).toBe(0);
  expect(blocks()).toEqual([]);
});

test("--userns with another value, or without an image or --rootfs: one line, nothing left", async () => {
  const bad = await mycr(["run", "--userns=keep-id", "--rootfs", busyboxRootfs(), "--", "/bin/true"]);
  expect({ code: bad.exitCode, stderr: bad.stderr }).toEqual({ code: 125, stderr: 'mycr: --userns keep-id: mycr supports "host" (the default) and "auto" (a private id range)\n' });
  const hostRoot = await mycr(["run", "--userns=auto", "--", "/bin/true"]);
  expect({ code: hostRoot.exitCode, stderr: hostRoot.stderr }).toEqual({
    code: 125,
    stderr: "mycr: --userns=auto: needs --image or --rootfs (the host's root holds file systems that cannot be idmapped)\n",
  });
  expect(blocks()).toEqual([]);
});

test("--rootfs with --userns=auto: the host directory's root-owned files look root's inside", async () => {
  const r = await mycr(["run", "--network", "none", "--userns=auto", "--rootfs", busyboxRootfs(), "--", "/bin/sh", "-c", "stat -c %u /bin/busybox; id -u"]);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("0\n0\n");
  expect(blocks()).toEqual([]);
});

test("a stopped container keeps its block, and gets it back when started again", async () => {
  const run = await mycr(["run", "-d", "--network", "none", "--userns=auto", "--image", IMAGE, "--", "/bin/sleep", "60"]);
  expect(run.exitCode).toBe(0);
  const id = run.stdout.trim();
  try {
    const first = mapOf((await mycr(["exec", id, "cat", "/proc/self/uid_map"])).stdout);
    expect((await mycr(["stop", "-t", "1", id])).exitCode).toBe(0);
    expect(blocks().length).toBe(1);
    expect((await mycr(["start", id])).exitCode).toBe(0);
    const again = mapOf((await mycr(["exec", id, "cat", "/proc/self/uid_map"])).stdout);
    expect(again).toEqual(first);
    // copying in would write as the host's root, which has no id there: refused by name; copying out works
    writeFileSync(join(dir, "in.txt"), "in\n");
    const cpIn = await mycr(["cp", join(dir, "in.txt"), `${id}:/root/in.txt`]);
    expect({ code: cpIn.exitCode, stderr: cpIn.stderr }).toEqual({ code: 125, stderr: `mycr: cp: ${id} runs with --userns=auto; copying into it is not supported yet (copy out works)\n` });
    expect((await mycr(["cp", `${id}:/etc/passwd`, join(dir, "passwd")])).exitCode).toBe(0);
    expect(readFileSync(join(dir, "passwd"), "utf8")).toContain("root:x:0:0");
    // not committed with the block's host ids as owners: refused by name
    const commit = await mycr(["commit", id, `mycr-test/userns-auto-${process.pid}:c`]);
    expect({ code: commit.exitCode, stderr: commit.stderr }).toEqual({
      code: 125,
      stderr: `mycr: commit ${id}: the container runs with --userns=auto, whose files are not yet shifted back to the container's ids for a layer\n`,
    });
    expect(blocks().length).toBe(1);
  } finally {
    await mycr(["rm", "-f", id]);
  }
  expect(blocks()).toEqual([]);
});
