// Pushing to a real registry (Debian's docker-registry) and checking what arrived with
// other clients: skopeo inspects it, podman pulls and runs it, mycr pulls it back.
// Local images (gzip-compressed on the way), pulled ones (their blobs mounted, their
// manifest digest kept), multi-platform indexes, chunked uploads, bearer tokens with push
// scope, basic auth, and the failures that must publish nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mycr } from "./helpers/mycr";
import { MYCR, WORK } from "./helpers/env";
import { OciLayout, sha } from "./helpers/oci-layout";
import { push as skopeoPush, startRegistry, type TestRegistry } from "./helpers/registry";
import { startPushProxy } from "./helpers/push-proxy";
import { busyboxLayerEntries, makeTar } from "./helpers/tar";

let reg: TestRegistry;
let work: string;
/** Local names and pulled references, removed at the end. */
const images = new Set<string>();
const busyboxTar = makeTar(busyboxLayerEntries());
const havePodman = Bun.spawnSync(["sh", "-c", "command -v podman"]).exitCode === 0;

async function ok(args: string[], opts: Parameters<typeof mycr>[1] = {}) {
  const r = await mycr(args, { timeoutMs: 120_000, ...opts });
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

/** A one-layer local image from a tar (mycr import), named `name`; returns its id. */
async function importImage(name: string, tar: Uint8Array, change: string[] = []): Promise<string> {
  const file = join(work, `${name.replace(/[/:]/g, "_")}.tar`);
  writeFileSync(file, tar);
  images.add(name);
  return (await ok(["import", ...change.flatMap((c) => ["-c", c]), file, name])).stdout.trim();
}

function skopeo(args: string[]): { exitCode: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(["skopeo", ...args], { stdout: "pipe", stderr: "pipe" });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The manifest (or index) a registry serves for REF, as bytes (skopeo inspect --raw). */
function rawManifest(ref: string, creds?: string): string {
  const r = skopeo(["inspect", "--raw", "--tls-verify=false", ...(creds ? ["--creds", creds] : []), `docker://${ref}`]);
  if (r.exitCode !== 0) throw new Error(`skopeo inspect ${ref}: ${r.stderr}`);
  return r.stdout;
}

/** A one-line error, exit status 125. */
function expectOneLine(r: { exitCode: number; stderr: string }, text: string | RegExp): void {
  expect(r.exitCode).toBe(125);
  expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
  if (typeof text === "string") expect(r.stderr).toBe(`mycr: ${text}\n`);
  else expect(r.stderr).toMatch(text);
}

beforeAll(async () => {
  reg = await startRegistry();
  work = mkdtempSync(join(WORK, "push-"));
}, 60_000);

afterAll(async () => {
  for (const name of images) await mycr(["rmi", "-f", name]);
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("push", () => {
  let localId: string;
  let localRef: string;
  let localDigest: string;

  test("a local image: gzip layers and the image id as skopeo sees them; pushed again, nothing is sent and the digest is the same", async () => {
    localId = await importImage("local/app:1", busyboxTar, ['CMD ["sh", "-c", "echo pushed by mycr"]']);
    localRef = `${reg.host}/team/app:1`;
    const p = await ok(["push", "local/app:1", localRef]);
    localDigest = p.stdout.trim();
    expect(localDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p.stderr).toMatch(new RegExp(`^mycr: [0-9a-f]{12}: pushed \\([\\d.]+[kM]?B in [\\d.]+s\\)\\nmycr: pushed ${localRef} \\(${localDigest}\\)\\n$`));
    const raw = rawManifest(localRef);
    expect(sha(raw)).toBe(localDigest);
    const manifest = JSON.parse(raw);
    expect(manifest.config.digest).toBe(localId); // the image id travels unchanged
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar+gzip"]);
    // the registry's blob is a gzip of exactly the imported tar
    const blob = await fetch(`http://${reg.host}/v2/team/app/blobs/${manifest.layers[0].digest}`);
    expect(sha(Bun.gunzipSync(new Uint8Array(await blob.arrayBuffer())))).toBe(sha(busyboxTar));
    const inspect = JSON.parse(skopeo(["inspect", "--tls-verify=false", `docker://${localRef}`]).stdout);
    expect(inspect.Digest).toBe(localDigest);

    const again = await ok(["push", "local/app:1", `docker://${localRef}`]);
    expect(again.stdout.trim()).toBe(localDigest);
    expect(again.stderr).toMatch(/^mycr: [0-9a-f]{12}: layer already exists\n/);
  }, 120_000);

  test("mycr pulls back what it pushed (same image id) and runs it", async () => {
    images.add(localRef);
    expect((await ok(["pull", localRef])).stdout.trim()).toBe(localId.replace(/^sha256:/, ""));
    expect((await ok(["run", "--network", "none", "--image", localRef])).stdout).toBe("pushed by mycr\n");
  }, 120_000);

  test.if(havePodman)("podman pulls and runs what mycr pushed", () => {
    const root = mkdtempSync(join(WORK, "podman-"));
    const podman = (args: string[]) => {
      const r = Bun.spawnSync(["podman", "--root", join(root, "root"), "--runroot", join(root, "run"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--runtime", MYCR, ...args], { timeout: 120_000 });
      return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    try {
      const pulled = podman(["pull", "-q", "--tls-verify=false", localRef]);
      expect(pulled.stderr).toBe("");
      expect(`sha256:${pulled.stdout.trim()}`).toBe(localId);
      // this host lacks CAP_SYS_RESOURCE: podman's default rlimits cannot be granted
      const run = podman(["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", localRef]);
      expect([run.exitCode, run.stdout]).toEqual([0, "pushed by mycr\n"]);
    } finally {
      podman(["rmi", "-a", "-f"]);
      rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);

  test("a pulled image to another repository of its registry: every layer mounted, the manifest digest unchanged; to another registry: recompressed, same image id", async () => {
    const dir = join(work, "layout-pulled");
    const layout = new OciLayout(dir);
    layout.tag(
      layout.image({
        layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "etc/motd", data: "zstd layer\n" }]), compression: "zstd" }],
        config: { Cmd: ["cat", "/etc/motd"] },
      }),
      "t",
    );
    const src = `${reg.host}/src/img:1`;
    skopeoPush(dir, "t", src);
    const original = rawManifest(src);
    images.add(src);
    const id = (await ok(["pull", src])).stdout.trim();

    const dst = `${reg.host}/dst/img:1`;
    const p = await ok(["push", src, dst]);
    expect(p.stdout.trim()).toBe(sha(original));
    // from src/img, or from team/app where the first test put the same busybox blob
    expect(p.stderr.match(/^mycr: [0-9a-f]{12}: mounted from (src|team)\/\w+$/gm)).toHaveLength(2);
    expect(rawManifest(dst)).toBe(original);

    const other = await startRegistry();
    try {
      const elsewhere = `${other.host}/copy/img:1`;
      const q = await ok(["push", src, elsewhere]);
      expect(q.stderr.match(/: pushed \(/g)).toHaveLength(2);
      const manifest = JSON.parse(rawManifest(elsewhere));
      expect(manifest.config.digest).toBe(`sha256:${id}`);
      expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(Array(2).fill("application/vnd.oci.image.layer.v1.tar+gzip"));
      images.add(elsewhere);
      await ok(["rmi", src]);
      expect((await ok(["run", "--network", "none", "--image", elsewhere])).stdout).toBe("zstd layer\n");
    } finally {
      await other.stop();
    }
  }, 180_000);

  test("a multi-platform image: the index goes up where the registry has every platform's manifest, else this platform's manifest alone, said", async () => {
    const dir = join(work, "layout-multi");
    const layout = new OciLayout(dir);
    const img = (architecture: string) => layout.image({ architecture, layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "arch", data: architecture }]) }], config: { Cmd: ["cat", "/arch"] } });
    layout.tag(layout.index([img("amd64"), img("arm64")]), "t");
    const src = `${reg.host}/multi/arch:1`;
    skopeoPush(dir, "t", src);
    images.add(src);
    await ok(["pull", src]);
    // skopeo may have swapped a layer for a blob the registry had (its blob info cache): the registry's index counts
    const served = rawManifest(src);
    expect(JSON.parse(served).manifests).toHaveLength(2);
    const retag = await ok(["push", src, `${reg.host}/multi/arch:2`]);
    expect(retag.stdout.trim()).toBe(sha(served));
    expect(rawManifest(`${reg.host}/multi/arch:2`)).toBe(served);

    const lone = await ok(["push", src, `${reg.host}/lone/arch:1`]);
    expect(lone.stderr).toContain("pushing this platform's manifest only: 1 other manifest(s) of the index");
    expect(JSON.parse(rawManifest(`${reg.host}/lone/arch:1`)).mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(lone.stdout.trim()).toBe(sha(rawManifest(`${reg.host}/lone/arch:1`)));
  }, 180_000);
});

describe("auth and uploads", () => {
  test("bearer tokens with push scope; a large layer in PATCH chunks with Content-Range, the config in one PUT; a mount asks to pull from the source", async () => {
    const proxy = startPushProxy(reg.host, { bob: ["pw", "pull,push"], rita: ["pw", "pull"] });
    const authFile = join(work, "auth-bearer.json");
    const auth = (user: string) => writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${user}:pw`).toString("base64") } } }));
    const env = { REGISTRY_AUTH_FILE: authFile };
    try {
      // 20 MB that gzip cannot shrink: more than two 8 MiB chunks
      const noise = new Uint8Array(20_000_000);
      for (let i = 0; i < noise.length; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
      await importImage("local/big:1", makeTar([...busyboxLayerEntries(), { path: "noise", data: noise }]), ['CMD ["wc", "-c", "/noise"]']);
      const big = `${proxy.host}/big:1`;
      auth("rita");
      const denied = await mycr(["push", "local/big:1", big], { env });
      expectOneLine(denied, new RegExp(`^mycr: push ${big}: upload to big: ${proxy.host}: denied for user rita: requested access to the resource is denied\\n$`));
      expect(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/big:1`]).exitCode).not.toBe(0);

      auth("bob");
      proxy.requests.length = 0;
      await ok(["push", "local/big:1", big], { env });
      expect(proxy.tokenRequests.some((q) => new URLSearchParams(q).getAll("scope").includes("repository:big:pull,push"))).toBe(true);
      const patches = proxy.requests.filter((r) => r.method === "PATCH");
      expect(patches.map((r) => r.range).slice(0, 2)).toEqual([`0-${(8 << 20) - 1}`, `${8 << 20}-${(16 << 20) - 1}`]);
      const puts = proxy.requests.filter((r) => r.method === "PUT" && /\/blobs\/uploads\//.test(r.path));
      expect(puts.every((r) => /[?&]digest=sha256%3A|[?&]digest=sha256:/.test(r.path))).toBe(true);
      expect(puts.filter((r) => Number(r.length) > 0).length).toBe(2); // the config whole; the layer's last bytes
      const last = proxy.requests.at(-1)!;
      expect([last.method, last.path]).toEqual(["PUT", "/v2/big/manifests/1"]); // the manifest last

      images.add(big);
      await ok(["pull", big], { env });
      proxy.tokenRequests.length = 0;
      const copy = await ok(["push", big, `${proxy.host}/copy:1`], { env });
      expect(copy.stderr).toMatch(/: mounted from big\n/);
      expect(proxy.tokenRequests.some((q) => new URLSearchParams(q).getAll("scope").includes("repository:big:pull"))).toBe(true);
      expect((await ok(["run", "--network", "none", "--pull", "never", "--image", big], { env })).stdout).toBe("20000000 /noise\n");
    } finally {
      proxy.stop();
    }
  }, 240_000);

  test("basic auth (htpasswd): refused without credentials, pushed with them", async () => {
    const secure = await startRegistry({ users: { alice: "s3cret" } });
    const authFile = join(work, "auth-basic.json");
    try {
      await importImage("local/basic:1", busyboxTar);
      const ref = `${secure.host}/private/app:1`;
      expectOneLine(await mycr(["push", "local/basic:1", ref], { env: { REGISTRY_AUTH_FILE: authFile, HOME: "/nonexistent" } }), `push ${ref}: ${secure.host}: authentication required (no credentials: mycr login)`);
      await ok(["login", secure.host, "-u", "alice", "--password-stdin"], { env: { REGISTRY_AUTH_FILE: authFile }, stdin: "s3cret\n" });
      const p = await ok(["push", "local/basic:1", ref], { env: { REGISTRY_AUTH_FILE: authFile } });
      expect(sha(rawManifest(ref, "alice:s3cret"))).toBe(p.stdout.trim());
    } finally {
      await secure.stop();
    }
  }, 120_000);
});

describe("an upload broken off mid-chunk", () => {
  /** A local image with ~10 MB that gzip cannot shrink: one 8 MiB PATCH, the rest in the closing PUT. */
  async function noisyImage(name: string): Promise<string> {
    const noise = new Uint8Array(10_000_000);
    for (let i = 0; i < noise.length; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
    return importImage(name, makeTar([...busyboxLayerEntries(), { path: "noise", data: noise }]), ['CMD ["wc", "-c", "/noise"]']);
  }

  test("half a chunk arrived: the upload asks where it stands (GET, Range) and sends only the rest; what the registry holds pulls back as the same image and runs", async () => {
    const proxy = startPushProxy(reg.host);
    try {
      for (let round = 0; round < 3; round++) {
        const id = await noisyImage(`local/resume-${round}:1`);
        proxy.stableUploadUrls = true;
        proxy.cutPatches = 1;
        proxy.requests.length = 0;
        const r = await ok(["push", `local/resume-${round}:1`, `${proxy.host}/resume-${round}:1`]);
        expect(r.stderr).toMatch(/upload to resume-\d: .*(502|Bad Gateway|HTTP 416)/);
        const uploads = proxy.requests.filter((q) => /\/blobs\/uploads\//.test(q.path));
        const patches = uploads.filter((q) => q.method === "PATCH").map((q) => q.range);
        const half = (8 << 20) / 2;
        // the whole chunk (cut by the proxy after half), then only what the registry lacked
        expect(patches[0]).toBe(`0-${(8 << 20) - 1}`);
        expect(patches.at(-1)).toBe(`${half}-${(8 << 20) - 1}`);
        expect(uploads.some((q) => q.method === "GET")).toBe(true);
        expect(uploads.filter((q) => q.method === "POST").length).toBe(2); // the config's session and the layer's: no new one
        const ref = `${reg.host}/resume-${round}:1`;
        images.add(ref);
        expect((await ok(["pull", ref])).stdout.trim()).toBe(id.replace(/^sha256:/, ""));
        expect((await ok(["run", "--network", "none", "--pull", "never", "--image", ref])).stdout).toBe("10000000 /noise\n");
      }
    } finally {
      proxy.stop();
    }
  }, 300_000);

  test("docker-registry throws the session away (its URL held the old offset): the layer starts again in a new session and arrives whole", async () => {
    const proxy = startPushProxy(reg.host);
    try {
      const id = await noisyImage("local/restart:1");
      proxy.cutPatches = 1;
      const r = await ok(["push", "local/restart:1", `${proxy.host}/restart:1`]);
      expect(r.stderr).toMatch(/starting the blob again/);
      const posts = proxy.requests.filter((q) => q.method === "POST" && /\/blobs\/uploads\//.test(q.path));
      expect(posts.length).toBe(3); // the config's, the layer's, the layer's again
      const ref = `${reg.host}/restart:1`;
      images.add(ref);
      expect((await ok(["pull", ref])).stdout.trim()).toBe(id.replace(/^sha256:/, ""));
    } finally {
      proxy.stop();
    }
  }, 180_000);
});

describe("failures publish nothing", () => {
  test("registry unreachable: one line at once", async () => {
    const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = s.port!;
    s.stop(true);
    await importImage("local/fail:1", busyboxTar);
    const r = await mycr(["push", "local/fail:1", `127.0.0.1:${port}/x:1`]);
    expectOneLine(r, `push 127.0.0.1:${port}/x:1: cannot reach registry 127.0.0.1:${port}: connection refused (is it running, and on that port?)`);
  }, 60_000);

  test("a registry that claims blobs it lacks: the manifest is refused (unknown blob), one line, and the tag serves nothing", async () => {
    const proxy = startPushProxy(reg.host);
    try {
      const tar = makeTar([...busyboxLayerEntries(), { path: "lie", data: "x" }]);
      await importImage("local/lie:1", tar);
      proxy.lieAbout.set(sha(tar), tar.length);
      const ref = `${proxy.host}/lie:1`;
      const r = await mycr(["push", "-q", "local/lie:1", ref]);
      expectOneLine(r, new RegExp(`^mycr: push ${ref}: manifest sha256:[0-9a-f]{64}: the registry lacks a blob it refers to \\(.*\\)\\n$`));
      expect(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/lie:1`]).exitCode).not.toBe(0);
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test("an upload the registry breaks off: one line, no manifest sent, the tag serves nothing", async () => {
    const proxy = startPushProxy(reg.host);
    try {
      const noise = crypto.getRandomValues(new Uint8Array(60_000));
      await importImage("local/broken:1", makeTar([...busyboxLayerEntries(), ...Array.from({ length: 200 }, (_, i) => ({ path: `n${i}`, data: noise }))]));
      proxy.refuseChunks = true;
      const ref = `${proxy.host}/broken:1`;
      const r = await mycr(["push", "local/broken:1", ref]);
      expectOneLine(r, `push ${ref}: upload to broken: blob upload invalid`);
      expect(proxy.requests.some((q) => q.path.includes("/manifests/"))).toBe(false);
      expect(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/broken:1`]).exitCode).not.toBe(0);
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test("bad input: no such image, a digest as destination, an archive transport, an unnamed image without destination", async () => {
    expectOneLine(await mycr(["push", "nosuch:1", `${reg.host}/x:1`]), "push: no such image: nosuch:1");
    expectOneLine(await mycr(["push", "local/fail:1", `${reg.host}/x@sha256:${"0".repeat(64)}`]), `push: "${reg.host}/x@sha256:${"0".repeat(64)}" names a digest; push to a tag`);
    expectOneLine(await mycr(["push", "local/fail:1", "oci-archive:/tmp/x.tar"]), 'push: destination "oci-archive:/tmp/x.tar": only a registry (docker://) can be pushed to; for archives use mycr save');
    const file = join(work, "unnamed.tar");
    writeFileSync(file, makeTar([{ path: "only", data: "1" }]));
    const id = (await ok(["import", file])).stdout.trim();
    images.add(id);
    expectOneLine(await mycr(["push", id.slice(7, 19)]), `push: image ${id.slice(7, 19)} has no name: give the destination (mycr push ${id.slice(7, 19)} REGISTRY/REPO:TAG)`);
    expectOneLine(await mycr(["push", "a", "b", "c"]), /^mycr: usage: mycr push/);
  }, 60_000);
});
