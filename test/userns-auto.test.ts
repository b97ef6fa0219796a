// mycr run --userns=auto: root inside is a private block of 65536 host ids, not the host's root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, WORK, mycrEnv } from "./helpers/env";
import { listing, readSavedImage } from "./helpers/image-fs";
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
    // cp in and commit of a stopped-and-started container work like those of a fresh one (tests below)
    writeFileSync(join(dir, "in.txt"), "in\n");
    expect((await mycr(["cp", join(dir, "in.txt"), `${id}:/root/in.txt`])).exitCode).toBe(0);
    expect((await mycr(["exec", id, "stat", "-c", "%u:%g", "/root/in.txt"])).stdout).toBe("0:0\n");
    expect(blocks().length).toBe(1);
  } finally {
    await mycr(["rm", "-f", id]);
  }
  expect(blocks()).toEqual([]);
});

/** A detached --userns=auto container (or a plain one) running `script`, once /ready exists; returns its id and its block's first host id. */
async function detachedAuto(script: string, remapped = true): Promise<{ id: string; base: number }> {
  const r = await mycr(["run", "-d", "--network", "none", ...(remapped ? ["--userns=auto"] : []), "--image", IMAGE, "--", "/bin/sh", "-c", `${script}\ntouch /ready; exec sleep 60`]);
  expect(r.stderr).toBe("");
  const id = r.stdout.trim();
  for (let i = 0; i < 200 && (await mycr(["exec", id, "test", "-e", "/ready"])).exitCode !== 0; i++) await Bun.sleep(50);
  return { id, base: mapOf((await mycr(["exec", id, "cat", "/proc/self/uid_map"])).stdout)[1]! };
}

const upperFile = (id: string, path: string) => join(TEST_ROOT, "remapped", id, "upper", path);
const owner = (path: string) => {
  const st = statSync(path);
  return `${st.uid}:${st.gid}`;
};

test("cp into a --userns=auto container writes its own ids (its root is the block's first id on the host); cp out gives the ids it sees", async () => {
  const { id, base } = await detachedAuto("echo mine > /root/mine; chown 1234:1235 /root/mine");
  try {
    const src = join(dir, "cp-src");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "sub", "f"), "deep\n");
    chownSync(join(src, "sub", "f"), 1000, 1001);
    writeFileSync(join(dir, "plain.txt"), "plain\n");
    expect((await mycr(["cp", join(dir, "plain.txt"), `${id}:/root/plain.txt`])).exitCode).toBe(0);
    expect((await mycr(["cp", "-a", src, `${id}:/root/`])).exitCode).toBe(0);
    // a tar stream's owners are the container's too
    const tar = Bun.spawnSync(["tar", "-C", dir, "--owner=7", "--group=8", "-c", "plain.txt"]).stdout;
    expect(Bun.spawnSync([MYCR, "cp", "-", `${id}:/tmp`], { stdin: tar, env: mycrEnv() }).exitCode).toBe(0);
    const inside = await mycr(["exec", id, "sh", "-c", "stat -c '%u:%g %n' /root/plain.txt /root/cp-src /root/cp-src/sub/f /tmp/plain.txt; cat /root/cp-src/sub/f; echo more >> /root/plain.txt && echo writable"]);
    expect(inside.stdout).toBe(["0:0 /root/plain.txt", "0:0 /root/cp-src", "1000:1001 /root/cp-src/sub/f", "7:8 /tmp/plain.txt", "deep", "writable", ""].join("\n"));
    expect([owner(upperFile(id, "root/plain.txt")), owner(upperFile(id, "root/cp-src/sub/f"))]).toEqual([`${base}:${base}`, `${base + 1000}:${base + 1001}`]);
    // out: -a keeps the owners the container sees, not the block's host ids; without -a the caller's
    expect((await mycr(["cp", "-a", `${id}:/root/mine`, join(dir, "mine-a")])).exitCode).toBe(0);
    expect((await mycr(["cp", `${id}:/root/mine`, join(dir, "mine")])).exitCode).toBe(0);
    expect([owner(join(dir, "mine-a")), owner(join(dir, "mine")), readFileSync(join(dir, "mine"), "utf8")]).toEqual(["1234:1235", "0:0", "mine\n"]);
    const out = Bun.spawnSync([MYCR, "cp", `${id}:/root/mine`, "-"], { env: mycrEnv() });
    const listed = Bun.spawnSync(["tar", "--numeric-owner", "-tvf", "-"], { stdin: out.stdout });
    expect(listed.stdout.toString()).toContain(" 1234/1235 ");
    // an owner the block has no room for: one line, nothing written
    chownSync(join(dir, "plain.txt"), 70000, 0);
    const big = await mycr(["cp", "-a", join(dir, "plain.txt"), `${id}:/root/big`]);
    expect({ code: big.exitCode, stderr: big.stderr }).toEqual({
      code: 125,
      stderr: `mycr: cp: ${id}:/root/big: owner id 70000 has no id in a --userns=auto container (its ids are 0..65535); copy without -a\n`,
    });
    expect((await mycr(["exec", id, "test", "-e", "/root/big"])).exitCode).toBe(1);
  } finally {
    await mycr(["rm", "-f", id]);
  }
  expect(blocks()).toEqual([]);
});

test("attack: a --userns=auto container swaps cp's destination for links to the host while files are copied in, try after try", async () => {
  const target = join(dir, "host-target");
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, "secret"), "HOST SECRET\n");
  const { id } = await detachedAuto(`ln -sfn / /root/up; (while :; do rm -rf /root/d; mkdir /root/d; usleep 20000; rm -rf /root/d; ln -s ${target} /root/d; usleep 20000; done) &`);
  try {
    writeFileSync(join(dir, "payload"), "payload\n");
    let landed = 0;
    // 12 rounds at least; more while no copy has landed in the real directory yet (the
    // swapper's period and cp's may stay in step for a while: seen 0 of 12 once)
    for (let i = 0; i < 12 || (landed === 0 && i < 60); i++) {
      if ((await mycr(["cp", join(dir, "payload"), `${id}:/root/d/`])).exitCode === 0) landed++;
      await mycr(["cp", join(dir, "payload"), `${id}:/root/up${target}/payload-${i}`]);
      await mycr(["cp", join(dir, "payload"), `${id}:/root/up${target}/secret`]);
    }
    expect(readdirSync(target)).toEqual(["secret"]);
    expect(readFileSync(join(target, "secret"), "utf8")).toBe("HOST SECRET\n");
    expect(owner(join(target, "secret"))).toBe("0:0");
    expect(landed).toBeGreaterThan(0); // the race was run, not avoided
  } finally {
    await mycr(["rm", "-f", id]);
  }
});

test("commit of a --userns=auto container: the layer has the ids the container saw, the same image a plain container's commit gives", async () => {
  const script = "echo mine > /root/mine; chown 1234:1235 /root/mine; rm /etc/group; rm -rf /var && mkdir /var && echo v > /var/only; mkdir /data; echo x > /data/f; chown 1000:1000 /data/f; chmod 4750 /data/f; ln /data/f /data/link";
  const images: string[] = [];
  try {
    const listings: string[][] = [];
    const tops: string[][] = [];
    for (const remapped of [true, false]) {
      const { id } = await detachedAuto(script, remapped);
      const ref = `localhost/mycr-test/userns-auto-${process.pid}:${remapped ? "remapped" : "plain"}`;
      try {
        const c = await mycr(["commit", id, ref]);
        expect(c.stderr).toBe("");
        images.push(ref);
      } finally {
        await mycr(["rm", "-f", id]);
      }
      const file = join(dir, "saved.tar");
      expect(Bun.spawnSync([MYCR, "save", "-o", file, ref], { env: mycrEnv() }).exitCode).toBe(0);
      const saved = await readSavedImage(file);
      listings.push(listing(saved.files));
      tops.push([...saved.layers.at(-1)!].sort());
    }
    const [remapped, plain] = listings;
    expect(remapped!.filter((l) => /^\/(root\/mine|data|var)/.test(l))).toEqual([
      "/data dir 755 0:0 ",
      "/data/f file 4750 1000:1000 2",
      "/data/link file 4750 1000:1000 2",
      "/root/mine file 644 1234:1235 5",
      "/var dir 755 0:0 ",
      "/var/only file 644 0:0 2",
    ]);
    expect(remapped).toEqual(plain!);
    expect(tops[0]).toEqual(tops[1]!);
    expect(tops[0]).toContain("/etc/.wh.group");
    expect(tops[0]).toContain("/var/.wh..wh..opq");
    // the image runs, plain and remapped, with those owners
    const ran = await mycr(["run", "--network", "none", "--userns=auto", "--image", images[0]!, "--", "/bin/sh", "-c", "stat -c %u:%g /root/mine; ls /var; test -e /etc/group || echo no-group"]);
    expect(ran.stdout).toBe("1234:1235\nonly\nno-group\n");
  } finally {
    for (const ref of images) await mycr(["rmi", ref]);
  }
  expect(blocks()).toEqual([]);
});
