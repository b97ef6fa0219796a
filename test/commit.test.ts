// `mycr commit`: a container's changes become a layer (whiteouts, opaque directories,
// owners, modes, xattrs, hard links), the image runs with `mycr run --image`, podman loads
// it and sees the same files; --change, -m, -a and the history entry; a running container
// is frozen while its files are read, and --pause=false leaves it running; a hostile
// container swapping symlinks under the reader never gets a host file into the layer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, WORK, mycrEnv } from "./helpers/env";
import { readSavedImage, listing, type SavedImage } from "./helpers/image-fs";
import { mycr, type Result } from "./helpers/mycr";
import { PODMAN_LIMITS, havePodman, loadIntoPodman, podman, podmanOk } from "./helpers/podman";
import { busyboxRootfs } from "./helpers/rootfs";

const TAG = `${process.pid}`;
const BASE = `localhost/mycr-commit-base:${TAG}`;
const containers: string[] = [];
const images: string[] = [];
const podmanImages: string[] = [];

async function ok(args: string[], timeoutMs = 60_000): Promise<Result> {
  const r = await mycr(args, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

/** A detached container on the base image, whose name is remembered for removal. */
async function detached(name: string, script: string, extra: string[] = []): Promise<void> {
  containers.push(name);
  await ok(["run", "-d", "--name", name, ...extra, "--image", BASE, "sh", "-c", script]);
}

async function waitForFile(name: string, path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await mycr(["exec", name, "test", "-e", path])).exitCode === 0) return;
    await Bun.sleep(50);
  }
  throw new Error(`${path} never appeared in ${name}`);
}

async function saved(ref: string): Promise<SavedImage> {
  mkdirSync(WORK, { recursive: true });
  const file = join(WORK, `commit-${TAG}-${Math.random().toString(36).slice(2)}.tar`);
  try {
    const r = Bun.spawnSync([MYCR, "save", "-o", file, ref], { env: mycrEnv() });
    if (r.exitCode !== 0) throw new Error(`mycr save ${ref}: ${r.stderr}`);
    return await readSavedImage(file);
  } finally {
    rmSync(file, { force: true });
  }
}

async function stateOf(name: string): Promise<{ ID: string; State: string; Status: string }> {
  const lines = (await ok(["ps", "-a", "--format", "json"])).stdout.trim().split("\n");
  const found = lines.map((l) => JSON.parse(l) as { ID: string; Names: string; State: string; Status: string }).find((v) => v.Names === name);
  if (!found) throw new Error(`container ${name} not listed`);
  return found;
}

async function upperOf(name: string): Promise<string> {
  return join(TEST_ROOT, "containers", (await stateOf(name)).ID, "upper");
}

beforeAll(() => {
  const tar = Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-c", "."]);
  const r = Bun.spawnSync([MYCR, "import", "-", BASE], { stdin: tar.stdout, env: mycrEnv() });
  if (r.exitCode !== 0) throw new Error(`import: ${r.stderr}`);
  images.push(BASE);
});

afterAll(async () => {
  for (const c of containers) await mycr(["rm", "-f", c]);
  for (const i of images.reverse()) await mycr(["rmi", "-f", i]);
  for (const i of podmanImages) podman(["rmi", "-f", i]);
}, 120_000);

const CHANGES = [
  "mkdir -p /data/sub /keep",
  "echo one > /data/sub/file",
  "ln /data/sub/file /data/sub/link",
  "ln -s ../etc/passwd /data/sym",
  "chown 1000:1000 /data/sub/file",
  "chmod 4750 /data/sub/file",
  "chmod 700 /data/sub",
  "mkfifo /data/fifo",
  "rm /etc/group",
  "echo kept > /keep/a",
].join(" && ");

describe("commit", () => {
  test("changes become a layer: whiteouts, opaque directories, owners, modes, hard links, xattrs", async () => {
    const a = `mycr-commit-a-${TAG}`;
    await detached(a, `${CHANGES} && touch /ready && sleep 60`);
    await waitForFile(a, "/ready");
    // overlayfs keeps user xattrs in the upper dir: set one there, as setfattr inside would
    Bun.spawnSync(["setfattr", "-n", "user.mycr", "-v", "tested", join(await upperOf(a), "keep/a")]);
    const first = `localhost/mycr-commit-one:${TAG}`;
    images.push(first);
    await ok(["commit", a, first]);
    // The second generation removes a directory of the first and makes it again: opaque.
    const b = `mycr-commit-b-${TAG}`;
    containers.push(b);
    await ok(["run", "-d", "--name", b, "--image", first, "sh", "-c", "rm -rf /data && mkdir /data && echo new > /data/only && rm /ready && touch /ready2 && sleep 60"]);
    await waitForFile(b, "/ready2");
    const second = `localhost/mycr-commit-two:${TAG}`;
    images.push(second);
    await ok(["commit", b, second]);

    const one = await saved(first);
    const top = one.layers.at(-1)!;
    expect(top).toContain("/etc/.wh.group");
    expect(top).not.toContain("/etc/hosts"); // mount points the runtime made are no change
    expect(listing(one.files, "/data")).toEqual([
      "/data dir 755 0:0 ",
      "/data/fifo fifo 644 0:0 ",
      "/data/sub dir 700 0:0 ",
      "/data/sub/file file 4750 1000:1000 4",
      "/data/sub/link file 4750 1000:1000 4",
      "/data/sym symlink 777 0:0  -> ../etc/passwd",
    ]);
    expect(listing(one.files, "/keep")).toEqual(["/keep dir 755 0:0 ", "/keep/a file 644 0:0 5 user.mycr=tested"]);
    expect(one.files.has("/etc/group")).toBe(false);

    const two = await saved(second);
    expect(two.layers.at(-1)).toContain("/data/.wh..wh..opq");
    expect(listing(two.files, "/data")).toEqual(["/data dir 755 0:0 ", "/data/only file 644 0:0 4"]);

    // mycr runs it and sees the changes, the hard link as one inode
    const seen = await ok(["run", "--image", first, "sh", "-c", "cat /keep/a; stat -c '%i %h %U %a' /data/sub/file /data/sub/link; test -e /etc/group || echo no-group"]);
    const [kept, f, l, gone] = seen.stdout.trim().split("\n");
    expect(kept).toBe("kept");
    expect(f).toBe(l!);
    expect(f).toMatch(/^\d+ 2 app 4750$/);
    expect(gone).toBe("no-group");
    const seen2 = await ok(["run", "--image", second, "sh", "-c", "ls /data; cat /keep/a"]);
    expect(seen2.stdout).toBe("only\nkept\n");
  }, 120_000);

  test.if(havePodman)("podman loads the committed image and sees the same files", async () => {
    const c = `mycr-commit-p-${TAG}`;
    await detached(c, `${CHANGES} && touch /ready && sleep 60`);
    await waitForFile(c, "/ready");
    const ref = `localhost/mycr-commit-podman:${TAG}`;
    images.push(ref);
    await ok(["commit", c, ref]);
    loadIntoPodman(ref);
    podmanImages.push(ref);
    const file = join(WORK, `commit-podman-${TAG}.tar`);
    try {
      podmanOk(["save", "--format", "docker-archive", "-o", file, ref]);
      const theirs = await readSavedImage(file);
      const ours = await saved(ref);
      expect(listing(theirs.files)).toEqual(listing(ours.files));
    } finally {
      rmSync(file, { force: true });
    }
    const r = podmanOk(["run", "--rm", ...PODMAN_LIMITS, ref, "sh", "-c", "cat /keep/a; stat -c '%h %u:%g %a' /data/sub/file; test -e /etc/group || echo no-group"]);
    expect(r).toBe("kept\n2 1000:1000 4750\nno-group\n");
  }, 120_000);

  test("--change, -m and -a: the config and the history entry", async () => {
    const c = `mycr-commit-c-${TAG}`;
    await detached(c, "echo x > /x && touch /ready && sleep 60", ["-e", "RUNTIME_ONLY=1"]);
    await waitForFile(c, "/ready");
    const ref = `localhost/mycr-commit-changes:${TAG}`;
    images.push(ref);
    const r = await ok([
      "commit", "-c", 'CMD ["cat", "/x"]', "--change", "ENV MODE=prod", "-c", "WORKDIR /srv", "-c", "EXPOSE 8080", "-c", "LABEL team=infra",
      "-c", "USER app", "-m", "first commit", "-a", "Jo <jo@example.com>", c, ref,
    ]);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const { config } = await saved(ref);
    expect(config.config).toMatchObject({ Cmd: ["cat", "/x"], Env: ["MODE=prod"], WorkingDir: "/srv", ExposedPorts: { "8080/tcp": {} }, Labels: { team: "infra" }, User: "app" });
    expect(config.author).toBe("Jo <jo@example.com>");
    expect(config.history!.at(-1)).toMatchObject({ created_by: "sh -c echo x > /x && touch /ready && sleep 60", comment: "first commit", author: "Jo <jo@example.com>" });
    expect(config.rootfs.diff_ids.length).toBe(2);
    const run = await ok(["run", "--image", ref]);
    expect(run.stdout).toBe("x\n");
  }, 60_000);

  test("a running container is frozen while its files are read; --pause=false leaves it running", async () => {
    const c = `mycr-commit-f-${TAG}`;
    // Enough files that reading them takes a while, then a busy loop the freezer stops
    // (writing to /dev/shm, outside the upper dir: --pause=false must read a stable tree).
    await detached(c, "mkdir /many && cd /many && i=0; while [ $i -lt 2000 ]; do echo $i > f$i; i=$((i+1)); done; touch /ready; while :; do date +%s%N > /dev/shm/clock; done");
    await waitForFile(c, "/ready");
    for (const pause of [true, false]) {
      const ref = `localhost/mycr-commit-frozen-${pause}:${TAG}`;
      images.push(ref);
      const proc = Bun.spawn([MYCR, "commit", `--pause=${pause}`, c, ref], { env: mycrEnv(), stdout: "pipe", stderr: "pipe" });
      const states = new Set<string>();
      while (proc.exitCode === null) {
        states.add((await stateOf(c)).State);
        await Bun.sleep(5);
      }
      expect(await proc.exited, await new Response(proc.stderr).text()).toBe(0);
      if (pause) expect(states).toContain("paused");
      else expect(states).not.toContain("paused");
      expect((await stateOf(c)).State).toBe("running"); // thawed again
    }
  }, 120_000);

  test("an exited container kept with --keep commits; one without its files is refused", async () => {
    const kept = `mycr-commit-k-${TAG}`;
    const gone = `mycr-commit-g-${TAG}`;
    await detached(kept, "echo done > /result", ["--keep"]);
    await detached(gone, "echo done > /result");
    await ok(["wait", kept]);
    await ok(["wait", gone]);
    const ref = `localhost/mycr-commit-kept:${TAG}`;
    images.push(ref);
    await ok(["commit", kept, ref]);
    expect((await ok(["run", "--image", ref, "cat", "/result"])).stdout).toBe("done\n");
    const r = await mycr(["commit", gone, `localhost/mycr-commit-none:${TAG}`]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain("its files are gone (run it with --keep");
  }, 60_000);

  test("bad input: one line naming it, exit 125, no image made", async () => {
    const c = `mycr-commit-e-${TAG}`;
    await detached(c, "sleep 60");
    const before = (await ok(["images", "-q"])).stdout;
    const cases: [string[], string][] = [
      [["commit", `no-such-container-${TAG}`], "does not exist"],
      [["commit", "-c", "ONBUILD RUN true", c], "ONBUILD is not supported"],
      [["commit", "-c", "EXPOSE eighty", c], '"eighty" is not PORT[/PROTO]'],
      [["commit", c, "Bad:Name:x"], "commit:"],
      [["commit", c, "img@sha256:" + "a".repeat(64)], "names a digest"],
      [["commit"], "usage: mycr commit"],
    ];
    for (const [args, message] of cases) {
      const r = await mycr(args);
      expect(r.exitCode).toBe(125);
      expect(r.stderr.trim().split("\n").length).toBe(1);
      expect(r.stderr.toLowerCase()).toContain(message.toLowerCase());
    }
    const host = `mycr-commit-h-${TAG}`;
    containers.push(host);
    await ok(["run", "-d", "--name", host, "sleep", "60"]);
    const r = await mycr(["commit", host]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain("runs on the host's root or a --rootfs directory, not on an image");
    expect((await ok(["images", "-q"])).stdout).toBe(before);
  }, 60_000);

  test("symlink swap attack: a container racing symlinks under commit --pause=false never gets a host file into the layer", async () => {
    const secretDir = join(WORK, `commit-secret-${TAG}`);
    mkdirSync(secretDir, { recursive: true });
    const SECRET = `host-secret-${TAG}-${Math.random().toString(36).slice(2)}`;
    writeFileSync(join(secretDir, "f"), SECRET);
    writeFileSync(join(secretDir, "g"), SECRET);
    try {
      const c = `mycr-commit-s-${TAG}`;
      // /d flips between a directory of benign files and a symlink to the host's secret
      // directory (absolute: on the host it would lead there if followed); /f between a
      // file and a symlink to the secret file; /h is a hard link target race.
      await detached(
        c,
        `touch /ready; while :; do rm -rf /d /f; mkdir /d; echo benign > /d/f; echo benign > /d/g; echo plain > /f; rm -rf /d /f; ln -s ${secretDir} /d; ln -s ${secretDir}/f /f; done`,
      );
      await waitForFile(c, "/ready");
      let committed = 0;
      for (let i = 0; i < 15; i++) {
        const ref = `localhost/mycr-commit-race-${i}:${TAG}`;
        const r = await mycr(["commit", "--pause=false", c, ref]);
        if (r.exitCode !== 0) {
          expect(r.stderr).toContain("changed while commit read it");
          continue;
        }
        images.push(ref);
        committed++;
        const image = await saved(ref);
        for (const [path, info] of image.files) if (path === "/d" || path === "/f") expect(["dir", "file", "symlink"]).toContain(info.type);
        const file = join(WORK, `commit-race-${TAG}.tar`);
        Bun.spawnSync([MYCR, "save", "-o", file, ref], { env: mycrEnv() });
        const bytes = await Bun.file(file).text();
        rmSync(file, { force: true });
        expect(bytes.includes(SECRET)).toBe(false);
      }
      expect(committed).toBeGreaterThan(0);
    } finally {
      rmSync(secretDir, { recursive: true, force: true });
    }
  }, 180_000);
});

test("nothing of the commits is left in the store's temp names", () => {
  const layers = join(TEST_ROOT, "layers");
  expect(readdirSync(layers).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
});
