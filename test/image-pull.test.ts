// Pulling from a real registry (Debian's docker-registry) and running what was pulled:
// image config defaults, multi-layer images with whiteouts, zstd, multi-platform indexes,
// shared layers, integrity failures, hostile layers, basic and bearer auth, retries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mycr, mycrBackground } from "./helpers/mycr";
import { TEST_ROOT, WORK } from "./helpers/env";
import { OciLayout, sha } from "./helpers/oci-layout";
import { push, startRegistry, type TestRegistry } from "./helpers/registry";
import { busyboxLayerEntries, makeTar } from "./helpers/tar";
import { startFaultyProxy } from "./helpers/faulty-proxy";
import { startTokenProxy, type TokenProxy } from "./helpers/token-proxy";

let reg: TestRegistry;
let layoutDir: string;
const pulled: string[] = [];
const busyboxTar = makeTar(busyboxLayerEntries());

/** Builds an image layout and pushes it as REG/name:tag. */
function publish(host: string, name: string, build: (l: OciLayout) => ReturnType<OciLayout["image"]>, creds?: string): string {
  const dir = join(layoutDir, name.replace(/[/:]/g, "_"));
  const layout = new OciLayout(dir);
  layout.tag(build(layout), "t");
  const ref = `${host}/${name}`;
  push(dir, "t", ref, creds);
  pulled.push(ref);
  return ref;
}

async function ok(args: string[], opts: Parameters<typeof mycr>[1] = {}) {
  const r = await mycr(args, { timeoutMs: 90_000, ...opts });
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

let simple: string;
let multi: string;

beforeAll(async () => {
  reg = await startRegistry();
  layoutDir = mkdtempSync(join(WORK, "layouts-"));
  simple = publish(reg.host, "busybox:1", (l) =>
    l.image({
      layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "work/", type: "dir" }, { path: "work/hello", data: "hi\n" }]) }],
      config: { Cmd: ["sh", "-c", 'echo "$GREETING from $(pwd) as $(id -u)"'], Env: ["PATH=/bin", "GREETING=hello"], WorkingDir: "/work", StopSignal: "SIGQUIT" },
    }),
  );
  multi = publish(reg.host, "team/layers:2", (l) =>
    l.image({
      layers: [
        { tar: busyboxTar },
        { tar: makeTar([{ path: "data/a", data: "a" }, { path: "data/b", data: "b" }, { path: "opq/old", data: "o" }]) },
        {
          tar: makeTar([{ path: "data/.wh.a", data: "" }, { path: "opq/", type: "dir" }, { path: "opq/.wh..wh..opq", data: "" }, { path: "opq/new", data: "n" }]),
          compression: "zstd",
        },
      ],
      config: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["ls /data /opq"], User: "app" },
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const ref of pulled) await mycr(["rmi", ref]);
  await reg?.stop();
  // nothing of this file's images is left in the store
  const left = (d: string) => (existsSync(join(TEST_ROOT, d)) ? readdirSync(join(TEST_ROOT, d)) : []);
  expect([left("layers"), left("blobs/sha256"), left("l")]).toEqual([[], [], []]);
  if (layoutDir) rmSync(layoutDir, { recursive: true, force: true });
});

describe("pull and run", () => {
  test("pull prints the id, images lists it, run uses Cmd, Env, WorkingDir from the config", async () => {
    const p = await ok(["pull", simple]);
    expect(p.stdout.trim()).toMatch(/^[a-f0-9]{64}$/);
    const list = await ok(["images"]);
    expect(list.stdout).toContain(`${reg.host}/busybox`);
    expect(list.stdout).toContain(p.stdout.trim().slice(0, 12));
    const r = await ok(["run", "--image", simple]);
    expect(r.stdout).toBe("hello from /work as 0\n");
    // words after the flags replace Cmd; -e and -w win over the config
    const r2 = await ok(["run", "--image", simple, "-e", "GREETING=bye", "-w", "/tmp", "sh", "-c", 'echo "$GREETING $(pwd) $PATH"; cat /work/hello']);
    expect(r2.stdout).toBe("bye /tmp /bin\nhi\n");
  }, 120_000);

  test("run -d with the image's own command; ps shows the image's name", async () => {
    const name = `img-detached-${process.pid}`;
    const id = (await ok(["run", "-d", "--network", "none", "--name", name, "--image", simple])).stdout.trim();
    try {
      expect((await ok(["wait", name])).stdout).toBe("0\n");
      expect((await ok(["logs", name])).stdout).toBe("hello from /work as 0\n");
      const row = (await ok(["ps", "-a", "--format", "json"])).stdout.split("\n").find((l) => l.includes(id))!;
      expect(JSON.parse(row)).toMatchObject({ Image: simple, Names: name });
    } finally {
      await mycr(["rm", "-f", name]);
    }
  }, 60_000);

  test("layers with whiteouts, an opaque dir, zstd; Entrypoint and User from the config", async () => {
    const r = await ok(["run", "--image", multi]); // pulled because missing
    expect(r.stdout).toBe("/data:\nb\n\n/opq:\nnew\n");
    const who = await ok(["run", "--image", multi, "id -u"]);
    expect(who.stdout).toBe("1000\n");
    const ep = await ok(["run", "--image", multi, "--entrypoint", "echo", "replaced"]);
    expect(ep.stdout).toBe("replaced\n");
  }, 120_000);

  test("images share their common layer; rmi keeps what another image uses", async () => {
    await ok(["pull", simple]);
    await ok(["pull", multi]);
    const chain = sha(busyboxTar).slice(7);
    expect(readdirSync(join(TEST_ROOT, "layers")).filter((d) => d === chain)).toHaveLength(1);
    expect((await ok(["rmi", simple])).stdout).toMatch(new RegExp(`^Untagged: ${reg.host}/busybox:1\nDeleted: sha256:[0-9a-f]{64}\n$`));
    expect(existsSync(join(TEST_ROOT, "layers", chain, "diff/bin/busybox"))).toBe(true);
    expect((await ok(["run", "--pull", "never", "--image", multi, "true"])).exitCode).toBe(0);
    const never = await mycr(["run", "--pull", "never", "--image", simple, "true"]);
    expect(never.exitCode).toBe(125);
    expect(never.stderr).toBe(`mycr: image ${simple} is not present (--pull never)\n`);
    await ok(["rmi", multi]);
    expect(existsSync(join(TEST_ROOT, "layers", chain))).toBe(false);
  }, 120_000);

  test("a multi-platform index: the host's platform by default, --platform to choose", async () => {
    const ref = publish(reg.host, "multi/arch:1", (l) => {
      const img = (architecture: string, variant?: string) =>
        l.image({ architecture, variant, layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "platform", data: architecture }]) }], config: { Cmd: ["cat", "/platform"] } });
      return l.index([img("amd64"), img("arm64", "v8"), img("ppc64le")]);
    });
    const host = process.arch === "arm64" ? "arm64" : "amd64";
    expect((await ok(["run", "--image", ref])).stdout).toBe(host);
    await ok(["pull", "--platform", "linux/ppc64le", ref]);
    expect((await ok(["run", "--pull", "never", "--image", ref])).stdout).toBe("ppc64le");
    const none = await mycr(["pull", "--platform", "linux/s390x", ref]);
    expect(none.stderr).toBe(`mycr: pull ${ref}: no image for linux/s390x (the image has: linux/amd64, linux/arm64/v8, linux/ppc64le)\n`);
  }, 120_000);

  test("an image of 200 layers: past mount(2)'s one page of options, the layers go one by one", async () => {
    const layers = Array.from({ length: 200 }, (_, i) => ({ tar: makeTar([{ path: `layer-${i}`, data: `${i}\n` }, { path: "top", data: `${i}\n` }]) }));
    const ref = publish(reg.host, "tall:1", (l) => l.image({ layers: [{ tar: busyboxTar }, ...layers], config: { Cmd: ["sh", "-c", "cat /layer-0 /layer-199 /top; ls / | grep -c layer-"] } }));
    expect((await ok(["run", "--network", "none", "--image", ref], { timeoutMs: 120_000 })).stdout).toBe("0\n199\n199\n200\n");
  }, 180_000);

  test("pull by digest", async () => {
    const head = await fetch(`http://${reg.host}/v2/busybox/manifests/1`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    const digest = head.headers.get("docker-content-digest")!;
    const ref = `${reg.host}/busybox@${digest}`;
    pulled.push(ref);
    await ok(["pull", ref]);
    expect((await ok(["images", "--digests"])).stdout).toContain(digest);
    const wrong = await mycr(["pull", `${reg.host}/busybox@sha256:${"0".repeat(64)}`]);
    expect(wrong.exitCode).toBe(125);
    expect(wrong.stderr).toBe(`mycr: image not found: ${reg.host}/busybox@sha256:${"0".repeat(64)} (manifest unknown)\n`);
  }, 120_000);

  test("errors: unknown manifest, unknown image name", async () => {
    const r = await mycr(["pull", `${reg.host}/nope:1`]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toBe(`mycr: image not found: ${reg.host}/nope:1 (manifest unknown)\n`);
    const bad = await mycr(["run", "--image", "Bad/Ref", "true"]);
    expect(bad.stderr).toContain('invalid image reference "Bad/Ref"');
  }, 60_000);
});

describe("managing local images", () => {
  test("images --format json and image ls, image inspect; CREATED from the config", async () => {
    const ref = publish(reg.host, "listed:1", (l) => l.image({ layers: [{ tar: busyboxTar }], config: { Cmd: ["true"], Labels: { team: "a" } } }));
    const id = (await ok(["pull", "-q", ref])).stdout.trim();
    const lines = (await ok(["images", "--format", "json"])).stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.find((l) => l.Repository === `${reg.host}/listed`)!;
    expect(mine).toMatchObject({ ID: id.slice(0, 12), Tag: "1", Digest: expect.stringMatching(/^sha256:/), CreatedSince: expect.stringMatching(/ ago$/) });
    expect(mine.SizeBytes).toBeGreaterThan(500_000); // busybox
    const table = (await ok(["image", "ls"])).stdout.split("\n");
    expect(table[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(table.find((l) => l.startsWith(`${reg.host}/listed `))).toMatch(new RegExp(`\\s1\\s+${id.slice(0, 12)}\\s+.+ ago\\s+\\d`));
    const [doc] = JSON.parse((await ok(["image", "inspect", id.slice(0, 12)])).stdout) as Record<string, unknown>[];
    expect(doc).toMatchObject({ Id: `sha256:${id}`, RepoTags: [ref], Os: "linux", Config: { Cmd: ["true"], Labels: { team: "a" } } });
    expect((await ok(["image", "rm", ref])).stdout).toStartWith(`Untagged: ${ref}\n`);
    const gone = await mycr(["image", "inspect", ref]);
    expect([gone.exitCode, gone.stderr]).toEqual([125, `mycr: image inspect ${ref}: no such image\n`]);
  }, 60_000);

  test("rmi refuses an image a container runs on; -f takes the name now and the layers when it ends", async () => {
    const ref = publish(reg.host, "inuse:1", (l) => l.image({ layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "note", data: "still here" }]) }] }));
    await ok(["pull", "-q", ref]);
    const bg = mycrBackground(["run", "--network", "none", "--image", ref, "sh", "-c", "echo up; sleep 2; cat /note"]);
    try {
      await bg.waitFor("up");
      const refused = await mycr(["rmi", ref]);
      expect([refused.exitCode, refused.stderr]).toEqual([125, `mycr: rmi ${ref}: the image is in use by a running container (stop it first, or -f to remove the name now and the layers when it ends)\n`]);
      expect((await ok(["rmi", "-f", ref])).stdout).toStartWith(`Untagged: ${ref}\n`);
      expect((await ok(["images"])).stdout).not.toContain(`${reg.host}/inuse`);
      const layers = readdirSync(join(TEST_ROOT, "layers"));
      const r = await bg.result();
      expect([r.exitCode, r.stdout]).toEqual([0, "up\nstill here"]);
      // the container's end let go of the layers and pruned what was only its image's
      expect(readdirSync(join(TEST_ROOT, "layers")).length).toBeLessThan(layers.length);
    } finally {
      bg.proc.kill("SIGKILL");
      await bg.result();
    }
  }, 60_000);

  test("an id with two names: rmi by id refuses, -f removes both; image prune -a keeps what runs", async () => {
    const dir = join(layoutDir, "twonames");
    const layout = new OciLayout(dir);
    layout.tag(layout.image({ layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "two", data: "2" }]) }] }), "t");
    const [a, b] = [`${reg.host}/name-a:1`, `${reg.host}/name-b:1`];
    push(dir, "t", a);
    push(dir, "t", b);
    pulled.push(a, b);
    await ok(["pull", "-q", a]);
    const id = (await ok(["pull", "-q", b])).stdout.trim();
    const refused = await mycr(["rmi", id.slice(0, 12)]);
    expect(refused.stderr).toBe(`mycr: rmi ${id.slice(0, 12)}: the image has 2 names (${a}, ${b}): remove them by name, or use -f\n`);
    expect((await ok(["rmi", "-f", id.slice(0, 12)])).stdout).toBe(`Untagged: ${a}\nUntagged: ${b}\nDeleted: sha256:${id}\n`);

    // prune: nothing unnamed to remove; -a removes all but the image a container runs on
    await ok(["pull", "-q", a]);
    await ok(["pull", "-q", simple]);
    expect((await ok(["image", "prune"])).stdout).toBe("Deleted Images:\n\nTotal reclaimed space: 0 B\n");
    const bg = mycrBackground(["run", "--network", "none", "--image", simple, "sh", "-c", "echo up; sleep 30"]);
    try {
      await bg.waitFor("up");
      const pruned = await ok(["image", "prune", "-a", "-f"]);
      expect(pruned.stdout).toContain(`untagged: ${a}\n`);
      expect(pruned.stdout).not.toContain(simple);
      expect(pruned.stdout).toMatch(/Total reclaimed space: [1-9][\d.]* (B|KiB)\n$/); // the small layer; busybox is shared
      expect((await ok(["images", "--format", "json"])).stdout).toContain(`"Repository":"${reg.host}/busybox"`);
    } finally {
      bg.proc.kill("SIGKILL");
      await bg.result();
      await mycr(["gc"]);
    }
  }, 90_000);
});

/** An address of this host outside mycr's bridges (DNAT from the host's own address). */
function hostAddress(): string {
  const out = Bun.spawnSync(["ip", "-4", "-o", "addr", "show", "scope", "global"]).stdout.toString();
  return /inet (\d+\.\d+\.\d+\.\d+)/.exec(out.split("\n").find((l) => !/ mycr/.test(l)) ?? "")?.[1] ?? "127.0.0.1";
}

describe("ports the image exposes", () => {
  test("-P publishes them on free host ports and says which", async () => {
    const web = publish(reg.host, "web:1", (l) =>
      l.image({
        layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "www/", type: "dir" }, { path: "www/index.html", data: "exposed\n" }]) }],
        config: { Cmd: ["httpd", "-f", "-p", "8080", "-h", "/www"], ExposedPorts: { "8080/tcp": {} } },
      }),
    );
    const bg = mycrBackground(["run", "--image", web, "--pull", "always", "-P"]);
    try {
      for (let i = 0; i < 300 && !/host port \d+/.test(bg.errors()); i++) await Bun.sleep(50);
      const port = Number(/published 8080\/tcp on host port (\d+)/.exec(bg.errors())?.[1]);
      expect(port).toBeGreaterThan(0);
      let body = "";
      for (let i = 0; i < 50 && body === ""; i++) {
        body = await fetch(`http://${hostAddress()}:${port}/`).then((r) => r.text()).catch(() => "");
        if (body === "") await Bun.sleep(100);
      }
      expect(body).toBe("exposed\n");
    } finally {
      bg.proc.kill("SIGKILL");
      await bg.result();
      await mycr(["gc"]);
    }
  });
});

describe("integrity and hostile images", () => {
  test("a layer whose content does not match its diff id is refused and not kept", async () => {
    const lie = `sha256:${"1".repeat(64)}`;
    const layer = makeTar([{ path: "x", data: "x" }]);
    const ref = publish(reg.host, "lies:1", (l) => l.image({ layers: [{ tar: layer, diffId: lie }] }));
    const r = await mycr(["pull", ref]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toBe(`mycr: pull ${ref}: layer ${lie}: diff id mismatch: the uncompressed content is ${sha(layer)}\n`);
    expect(existsSync(join(TEST_ROOT, "layers", lie.slice(7)))).toBe(false);
    expect(readdirSync(join(TEST_ROOT, "layers")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    expect(readdirSync(join(TEST_ROOT, "blobs/sha256")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  }, 60_000);

  test("a layer blob is downloaded and unpacked in one pass, and kept only if all of it matched: damaged, overlong, short, cut off", async () => {
    const proxy = startFaultyProxy(reg.host);
    const layer = makeTar([{ path: "data/big", data: new Uint8Array(300_000).map((_, i) => (i * 7919) % 251) }, { path: "data/small", data: "s" }]);
    const blob = sha(Bun.gzipSync(layer as Uint8Array<ArrayBuffer>));
    const noTemps = () => {
      expect(readdirSync(join(TEST_ROOT, "layers")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
      expect(existsSync(join(TEST_ROOT, "layers", sha(layer).slice(7)))).toBe(false);
    };
    try {
      publish(reg.host, "faulty:1", (l) => l.image({ layers: [{ tar: layer }], config: { Cmd: ["x"] } }));
      const ref = `${proxy.host}/faulty:1`;
      pulled.push(ref);
      // one byte changed: whatever the decompressor makes of it, the blob's digest is the reason given
      proxy.corrupt.add(blob);
      let r = await mycr(["pull", ref]);
      expect([r.exitCode, r.stderr]).toEqual([125, expect.stringMatching(new RegExp(`(^|\n)mycr: pull ${ref}: blob ${blob}: digest mismatch: downloaded content is sha256:[0-9a-f]{64}\n$`))]);
      noTemps();
      proxy.corrupt.clear();
      // more bytes than the manifest declares
      proxy.overlong.add(blob);
      r = await mycr(["pull", ref]);
      expect([r.exitCode, r.stderr]).toEqual([125, expect.stringContaining(`blob ${blob}: the registry sent more than the`)]);
      noTemps();
      proxy.overlong.clear();
      // fewer bytes than declared, and the response says that is all: not retried
      proxy.short.add(blob);
      r = await mycr(["pull", ref]);
      expect([r.exitCode, r.stderr]).toEqual([125, expect.stringMatching(new RegExp(`blob ${blob}: the registry sent \\d+ bytes, the manifest declares \\d+\n$`))]);
      expect(r.stderr).not.toContain("retrying");
      noTemps();
      proxy.short.clear();
      // the connection dropped halfway: the download goes on from there, and succeeds
      proxy.cutOnce.add(blob);
      r = await ok(["pull", ref]);
      expect(r.stderr).toContain("retrying");
      expect(proxy.blobGets.get(blob)).toBe(5);
      expect(readdirSync(join(TEST_ROOT, "layers")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
      expect(existsSync(join(TEST_ROOT, "layers", sha(layer).slice(7), "diff/data/small"))).toBe(true);
    } finally {
      proxy.stop();
    }
  }, 90_000);

  test("a download dropped midway goes on with a Range request: only the missing bytes are fetched again, unpacked once; a registry that ignores Range sends it all", async () => {
    const proxy = startFaultyProxy(reg.host);
    const data = crypto.getRandomValues(new Uint8Array(65_536)); // incompressible: the blob is about the tar's size
    const content = Buffer.concat(Array.from({ length: 16 }, () => data));
    const layer = makeTar([{ path: "data/big", data: content }, { path: "data/small", data: "s" }]);
    const gz = Bun.gzipSync(layer as Uint8Array<ArrayBuffer>);
    const blob = sha(gz);
    const diff = join(TEST_ROOT, "layers", sha(layer).slice(7), "diff");
    try {
      publish(reg.host, "resume:1", (l) => l.image({ layers: [{ tar: layer }], config: { Cmd: ["x"] } }));
      const ref = `${proxy.host}/resume:1`;
      pulled.push(ref);
      for (const ignoreRanges of [false, true]) {
        proxy.ignoreRanges = ignoreRanges;
        proxy.served.length = 0;
        proxy.cutOnce.add(blob);
        const r = await ok(["pull", ref]);
        expect(r.stderr).toMatch(new RegExp(`^mycr: ${blob.slice(7, 19)}: retrying \\(the connection closed after ${gz.length >> 1} of ${gz.length} bytes\\)$`, "m"));
        const half = gz.length >> 1;
        expect(proxy.served.filter((s) => s.digest === blob)).toEqual([
          { digest: blob, range: null, bytes: half },
          // only the rest, unless the registry ignores the range (then all of it again, the first half skipped)
          { digest: blob, range: `bytes=${half}-`, bytes: ignoreRanges ? gz.length : gz.length - half },
        ]);
        expect(readFileSync(join(diff, "data/big")).equals(content)).toBe(true);
        await ok(["rmi", ref]);
        expect(existsSync(diff)).toBe(false);
      }
    } finally {
      proxy.stop();
    }
  }, 90_000);

  test("a layer that writes outside its root is refused; nothing escapes", async () => {
    const target = join(WORK, `escape-${process.pid}`);
    rmSync(target, { force: true });
    const ref = publish(reg.host, "hostile:1", (l) =>
      l.image({ layers: [{ tar: makeTar([{ path: "ok", data: "" }, { path: `../../../../../../../..${target}`, data: "pwned" }]) }] }),
    );
    const r = await mycr(["pull", ref]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain("the path leaves the layer (..)");
    expect(existsSync(target)).toBe(false);
  }, 60_000);
});

describe("authentication", () => {
  test("basic auth: refused without credentials, login --password-stdin, pull, logout", async () => {
    const secure = await startRegistry({ users: { alice: "s3cret" } });
    const authFile = join(WORK, `auth-${process.pid}.json`);
    const env = { REGISTRY_AUTH_FILE: authFile, HOME: "/nonexistent" };
    try {
      const ref = publish(secure.host, "private:1", (l) => l.image({ layers: [{ tar: busyboxTar }], config: { Cmd: ["echo", "private"] } }), "alice:s3cret");
      const anon = await mycr(["pull", ref], { env });
      expect(anon.stderr).toBe(`mycr: pull ${ref}: ${secure.host}: authentication required (no credentials: mycr login)\n`);
      const bad = await mycr(["login", secure.host, "-u", "alice", "--password-stdin"], { env, stdin: "wrong\n" });
      expect(bad.exitCode).toBe(125);
      expect(bad.stderr).toContain("authentication failed for user alice");
      await ok(["login", secure.host, "-u", "alice", "--password-stdin"], { env, stdin: "s3cret\n" });
      const stored = (await Bun.file(authFile).json()) as { auths: Record<string, { auth: string }> };
      expect(stored.auths[secure.host]!.auth).toBe(Buffer.from("alice:s3cret").toString("base64"));
      expect((await ok(["run", "--image", ref], { env })).stdout).toBe("private\n");
      await ok(["rmi", ref]);
      await ok(["logout", secure.host], { env });
      expect((await mycr(["pull", ref], { env })).exitCode).toBe(125);
      // credentials from ~/.docker/config.json
      const home = mkdtempSync(join(WORK, "home-"));
      await Bun.write(join(home, ".docker/config.json"), JSON.stringify({ auths: { [secure.host]: { auth: Buffer.from("alice:s3cret").toString("base64") } } }));
      await ok(["pull", ref], { env: { HOME: home } });
      rmSync(home, { recursive: true, force: true });
    } finally {
      rmSync(authFile, { force: true });
      await secure.stop();
    }
  }, 120_000);

  test("credential helpers: credsStore takes login's secret, pull asks it, logout erases it; a missing helper is named", async () => {
    const secure = await startRegistry({ users: { carol: "pw2" } });
    const home = mkdtempSync(join(WORK, "home-helper-"));
    const bin = join(home, "bin");
    mkdirSync(bin);
    // a helper speaking docker's protocol, keeping each server's JSON in a file beside it
    const helper = `#!/bin/sh
key() { echo "$1" | tr '/:' '__'; }
case "$1" in
get) read url; f="${bin}/secret-$(key "$url")"; [ -f "$f" ] || { echo "credentials not found in native keychain"; exit 1; }; cat "$f";;
store) json=$(cat); url=$(echo "$json" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p'); echo "$json" > "${bin}/secret-$(key "$url")";;
erase) read url; f="${bin}/secret-$(key "$url")"; [ -f "$f" ] || { echo "credentials not found in native keychain"; exit 1; }; rm "$f";;
esac
`;
    writeFileSync(join(bin, "docker-credential-mycrtest"), helper, { mode: 0o755 });
    const config = join(home, ".docker/config.json");
    await Bun.write(config, JSON.stringify({ credsStore: "mycrtest" }));
    const env = { HOME: home, PATH: `${bin}:${process.env.PATH}` };
    try {
      const ref = publish(secure.host, "helped:1", (l) => l.image({ layers: [{ tar: busyboxTar }], config: { Cmd: ["echo", "helped"] } }), "carol:pw2");
      expect((await mycr(["pull", ref], { env })).stderr).toContain("authentication required (no credentials: mycr login)");
      const login = await ok(["login", secure.host, "-u", "carol", "--password-stdin"], { env, stdin: "pw2\n" });
      expect(login.stderr).toContain("credential helper docker-credential-mycrtest");
      expect(JSON.parse(readFileSync(config, "utf8"))).toEqual({ credsStore: "mycrtest", auths: { [secure.host]: {} } }); // no secret in the file
      expect(readFileSync(join(bin, `secret-${secure.host.replace(":", "_")}`), "utf8")).toContain('"Secret":"pw2"');
      expect((await ok(["run", "--network", "none", "--image", ref], { env })).stdout).toBe("helped\n");
      await ok(["rmi", ref]);
      await ok(["logout", secure.host], { env });
      expect(readdirSync(bin)).toEqual(["docker-credential-mycrtest"]);
      expect((await mycr(["pull", ref], { env })).exitCode).toBe(125);
      await Bun.write(config, JSON.stringify({ credHelpers: { [secure.host]: "absent" } }));
      const missing = await mycr(["pull", ref], { env });
      expect(missing.stderr).toBe(`mycr: pull ${ref}: credential helper docker-credential-absent (named in ${config}): not found in PATH; install it or remove it from the file\n`);
    } finally {
      rmSync(home, { recursive: true, force: true });
      await secure.stop();
    }
  }, 120_000);

  test("bearer tokens, redirects to storage without credentials, 503 retried, each layer downloaded once by concurrent pulls", async () => {
    const proxy: TokenProxy = startTokenProxy(reg.host, "bob", "pw");
    const authFile = join(WORK, `auth-bearer-${process.pid}.json`);
    writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from("bob:pw").toString("base64") } } }));
    const env = { REGISTRY_AUTH_FILE: authFile };
    try {
      publish(reg.host, "viaproxy:1", (l) =>
        l.image({ layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "proxied", data: "yes" }]) }], config: { Cmd: ["cat", "/proxied"] } }),
      );
      const ref = `${proxy.host}/viaproxy:1`;
      pulled.push(ref);
      proxy.failOnce.push(/\/manifests\//);
      const [a, b] = await Promise.all([mycr(["pull", ref], { env, timeoutMs: 90_000 }), mycr(["pull", ref], { env, timeoutMs: 90_000 })]);
      expect([a.exitCode, b.exitCode, a.stderr + b.stderr]).toEqual([0, 0, expect.stringContaining("retrying (HTTP 503)")]);
      expect(proxy.tokenRequests[0]).toContain("scope=repository%3Aviaproxy%3Apull");
      // layers once each (per-layer locks), the config (tiny, not locked) at most twice
      const gets = [...proxy.blobGets.values()];
      expect(gets.filter((n) => n > 1).length).toBeLessThanOrEqual(1);
      expect(gets.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4);
      expect((await ok(["run", "--pull", "never", "--image", ref], { env })).stdout).toBe("yes");
    } finally {
      proxy.stop();
      rmSync(authFile, { force: true });
    }
  }, 120_000);
});
