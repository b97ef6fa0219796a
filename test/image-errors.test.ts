// Pulls that cannot succeed: each fails with one line naming what failed, exit 125, and
// leaves nothing in the store (no layer, blob, short link, temp name or image record).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { TEST_ROOT, WORK } from "./helpers/env";
import { SILENT_RESOLVER, mycrWithResolver, startNxdomainResolver } from "./helpers/fake-dns";
import { mycr, type Result } from "./helpers/mycr";
import { OciLayout } from "./helpers/oci-layout";
import { push, startRegistry, type TestRegistry } from "./helpers/registry";
import { busyboxLayerEntries, makeTar } from "./helpers/tar";

let reg: TestRegistry;
let layoutDir: string;
const servers: Server<undefined>[] = [];
const mounts: string[] = [];

beforeAll(async () => {
  reg = await startRegistry();
  layoutDir = mkdtempSync(join(WORK, "error-layouts-"));
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.stop(true);
  await reg?.stop();
  for (const dir of mounts) {
    Bun.spawnSync(["umount", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
  if (layoutDir) rmSync(layoutDir, { recursive: true, force: true });
  expect(storeContents()).toEqual([]); // no failed pull left anything behind
});

/** Builds an image layout and pushes it as REG/name:t. */
function publish(name: string, build: (l: OciLayout) => ReturnType<OciLayout["image"]>): string {
  const dir = join(layoutDir, name);
  const layout = new OciLayout(dir);
  layout.tag(build(layout), "t");
  push(dir, "t", `${reg.host}/${name}:t`);
  return `${reg.host}/${name}:t`;
}

function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** What the store holds that an image could be made of. */
function storeContents(root = TEST_ROOT): string[] {
  return ["layers", "blobs/sha256", "l"].flatMap((d) => entries(join(root, d)).map((n) => `${d}/${n}`));
}

function expectOneLine(r: Result, line: string | RegExp): void {
  expect(r.exitCode).toBe(125);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  if (typeof line === "string") expect(lines[0]).toBe(`mycr: ${line}`);
  else expect(lines[0]).toMatch(line);
}

/** A registry front that answers everything through `handle`, or passes to the real one. */
function front(handle: (url: URL) => Response | undefined | Promise<Response | undefined>): string {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const own = await handle(url);
      if (own) return own;
      const res = await fetch(`http://${reg.host}${url.pathname}`, { method: req.method, headers: { accept: req.headers.get("accept") ?? "*/*" } });
      return new Response(res.body, { status: res.status, headers: res.headers });
    },
  });
  servers.push(server);
  return `127.0.0.1:${server.port}`;
}

describe("the image or registry is not there", () => {
  test("unknown image: named in the one line, for pull and for run --image", async () => {
    const before = storeContents();
    expectOneLine(await mycr(["pull", "-q", `${reg.host}/nope:1`]), `image not found: ${reg.host}/nope:1 (manifest unknown)`);
    const run = await mycr(["run", "--network", "none", "--image", `${reg.host}/nope:1`, "true"]);
    expect(run.exitCode).toBe(125);
    expect(run.stderr.trimEnd().split("\n").at(-1)).toBe(`mycr: image not found: ${reg.host}/nope:1 (manifest unknown)`);
    expect(storeContents()).toEqual(before);
  });

  test("an unknown tag of a known repository", async () => {
    const ref = publish("known", (l) => l.image({ layers: [{ tar: makeTar([{ path: "f", data: "x" }]) }] }));
    expectOneLine(await mycr(["pull", "-q", ref.replace(/:t$/, ":other")]), `image not found: ${reg.host}/known:other (manifest unknown)`);
  });

  test("Docker Hub's answer for a missing or private repository (401 with a token) reads as not found", async () => {
    const host = front((url) => {
      if (url.pathname === "/token") return Response.json({ token: "anonymous" });
      const challenge = `Bearer realm="http://${url.host}/token",service="hub",scope="repository:library/nope:pull",error="insufficient_scope"`;
      return new Response(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }), { status: 401, headers: { "www-authenticate": challenge } });
    });
    expectOneLine(await mycr(["pull", "-q", `${host}/library/nope`]), `image not found: ${host}/library/nope:latest (the repository does not exist or it needs credentials: mycr login ${host})`);
  });

  test("registry unreachable: at once, not after retries", async () => {
    const host = front(() => undefined);
    servers.pop()!.stop(true); // a port nobody listens on any more
    const started = Date.now();
    expectOneLine(await mycr(["pull", "-q", `${host}/x:1`]), `pull ${host}/x:1: cannot reach registry ${host}: connection refused (is it running, and on that port?)`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("a registry name that does not resolve: no such host; a resolver that does not answer: said so after retries", async () => {
    // Both through a resolver of the test's own on the loopback: the machine's DNS is not asked.
    const before = storeContents();
    const dns = await startNxdomainResolver();
    try {
      expectOneLine(await mycrWithResolver(dns.address, ["pull", "-q", "registry.invalid/x:1"]), "pull registry.invalid/x:1: cannot reach registry registry.invalid: no such host (check the name)");
    } finally {
      dns.stop();
    }
    expectOneLine(
      await mycrWithResolver(SILENT_RESOLVER, ["pull", "-q", "registry.invalid/x:1"]),
      "pull registry.invalid/x:1: cannot reach registry registry.invalid: the DNS resolver gave no answer (check the network and /etc/resolv.conf)",
    );
    expect(storeContents()).toEqual(before);
  });

  test("auth refused: wrong credentials are named with the user", async () => {
    const secure = await startRegistry({ users: { alice: "s3cret" } });
    const authFile = join(WORK, `auth-errors-${process.pid}.json`);
    writeFileSync(authFile, JSON.stringify({ auths: { [secure.host]: { auth: Buffer.from("alice:wrong").toString("base64") } } }));
    try {
      expectOneLine(await mycr(["pull", "-q", `${secure.host}/private:1`], { env: { REGISTRY_AUTH_FILE: authFile } }), `pull ${secure.host}/private:1: ${secure.host}: authentication failed for user alice`);
    } finally {
      rmSync(authFile, { force: true });
      await secure.stop();
    }
  });

  test("a platform asked for by name that the image does not have", async () => {
    const ref = publish("amd64only", (l) => l.image({ architecture: "amd64", layers: [{ tar: makeTar([{ path: "f", data: "x" }]) }] }));
    const before = storeContents();
    expectOneLine(await mycr(["pull", "-q", "--platform", "linux/riscv64", ref]), `pull ${ref}: the image is for linux/amd64 only, not linux/riscv64`);
    expect(storeContents()).toEqual(before);
  });
});

describe("layers that are not what they claim", () => {
  test("a body shorter than the manifest says: at once; a connection cut mid-blob: retried, then named", async () => {
    const data = crypto.getRandomValues(new Uint8Array(64 * 1024));
    const ref = publish("truncated", (l) => l.image({ layers: [{ tar: makeTar([{ path: "data", data }]) }] }));
    let requests = 0;
    /** Serves the layer blob cut after 1000 bytes: a complete short answer, or a connection that breaks. */
    const cutting = (how: "short" | "broken") =>
      front(async (url) => {
        if (!/\/blobs\/sha256:/.test(url.pathname)) return undefined;
        const whole = new Uint8Array(await (await fetch(`http://${reg.host}${url.pathname}`)).arrayBuffer());
        if (whole.length < 60 * 1024) return new Response(whole); // the config
        requests++;
        if (how === "short") return new Response(whole.slice(0, 1000));
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(whole.slice(0, 1000));
            setTimeout(() => controller.error(new Error("cut on purpose")), 50);
          },
        });
        return new Response(body, { headers: { "content-length": String(whole.length) } });
      });
    const before = storeContents();
    const short = ref.replace(reg.host, cutting("short"));
    expectOneLine(await mycr(["pull", "-q", short]), new RegExp(`^mycr: pull ${short}: blob sha256:[0-9a-f]{64}: the registry sent 1000 bytes, the manifest declares \\d+$`));
    expect(requests).toBe(1); // a complete answer is not asked again
    requests = 0;
    const broken = ref.replace(reg.host, cutting("broken"));
    const r = await mycr(["pull", "-q", broken], { timeoutMs: 60_000 });
    expectOneLine(r, new RegExp(`^mycr: pull ${broken}: blob sha256:[0-9a-f]{64}: .+ \\(after 4 attempts\\)$`));
    expect(requests).toBe(4);
    expect(storeContents()).toEqual(before);
  }, 60_000);

  test("a layer that is not the gzip it says it is, and one cut short inside", async () => {
    const garbage = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, ...crypto.getRandomValues(new Uint8Array(200))]);
    const tar = makeTar(busyboxLayerEntries());
    const cut = Bun.gzipSync(tar as Uint8Array<ArrayBuffer>).slice(0, 20_000);
    const before = storeContents();
    const said = { notgzip: "gzip: .+", cutgzip: 'gzip: entry "bin/busybox": unexpected end of file' };
    for (const [name, blob] of [["notgzip", garbage], ["cutgzip", cut]] as const) {
      // pushed as an uncompressed layer with a diff id of the bytes: only unpacking can tell
      const ref = publish(name, (l) => l.image({ layers: [{ tar: blob, compression: "none" }] }));
      const r = await mycr(["pull", "-q", ref]);
      expectOneLine(r, new RegExp(`^mycr: pull ${ref}: layer sha256:[0-9a-f]{64}: ${said[name]}$`));
      expect(storeContents()).toEqual(before);
    }
  }, 60_000);

  test("one layer fails while another is still arriving: the other stops at once and nothing of either is left, try after try", async () => {
    // The slow layer is sent in 48 pieces 100 ms apart; the pull must end long before that.
    // Both orders: the first layer goes to the pull's Worker, the second to its main thread.
    const slowData = crypto.getRandomValues(new Uint8Array(192 * 1024));
    const garbage = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, ...crypto.getRandomValues(new Uint8Array(4096))]);
    const slowBlob = { tar: makeTar([{ path: "slow", data: slowData }]), compression: "none" as const };
    const badBlob = { tar: garbage, compression: "none" as const };
    let sentAll = 0;
    const host = front(async (url) => {
      if (!/\/blobs\/sha256:/.test(url.pathname)) return undefined;
      const whole = new Uint8Array(await (await fetch(`http://${reg.host}${url.pathname}`)).arrayBuffer());
      if (whole.length < 100 * 1024) return new Response(whole);
      const piece = Math.ceil(whole.length / 48);
      let at = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (at >= whole.length) {
            sentAll++;
            return controller.close();
          }
          await Bun.sleep(100);
          controller.enqueue(whole.slice(at, (at += piece)));
        },
      });
      return new Response(body, { headers: { "content-length": String(whole.length) } });
    });
    const before = storeContents();
    for (let round = 0; round < 3; round++) {
      for (const [name, layers] of [["badfirst", [badBlob, slowBlob]], ["slowfirst", [slowBlob, badBlob]]] as const) {
        const ref = publish(`${name}${round}`, (l) => l.image({ layers: [...layers] })).replace(reg.host, host);
        const r = await mycr(["pull", "-q", ref]);
        expectOneLine(r, new RegExp(`^mycr: pull ${ref}: layer sha256:[0-9a-f]{64}: gzip: .+$`));
        expect(sentAll).toBe(0); // the slow layer was not read to its end
        expect(storeContents()).toEqual(before);
      }
    }
  }, 60_000);

  test("a tar that ends in the middle of a file", async () => {
    const tar = makeTar([{ path: "big", data: new Uint8Array(10_000).fill(65) }]);
    const ref = publish("cuttar", (l) => l.image({ layers: [{ tar: tar.slice(0, 4096), compression: "gzip" }] }));
    const before = storeContents();
    expectOneLine(await mycr(["pull", "-q", ref]), new RegExp(`^mycr: pull ${ref}: layer sha256:[0-9a-f]{64}: gzip: truncated tar stream$`));
    expect(storeContents()).toEqual(before);
  });
});

describe("a full disk", () => {
  test("MYCR_ROOT fills up during a pull: one line, nothing of the image left", async () => {
    const dir = `/run/pullfs-${process.pid}`;
    mkdirSync(dir, { recursive: true });
    const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stderr: "pipe" });
    if (m.exitCode !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
    mounts.push(dir);
    const big = crypto.getRandomValues(new Uint8Array(3 * 1024 * 1024));
    const ref = publish("toobig", (l) => l.image({ layers: [{ tar: makeTar([{ path: "small", data: "s" }]) }, { tar: makeTar([{ path: "big", data: big }]) }] }));
    const r = await mycr(["pull", "-q", ref], { env: { MYCR_ROOT: dir }, timeoutMs: 60_000 });
    expectOneLine(r, new RegExp(`^mycr: pull ${ref}: .*no space left on device`, "i"));
    expect(storeContents(dir)).toEqual([]);
    expect((await mycr(["images", "-q"], { env: { MYCR_ROOT: dir } })).stdout).toBe("");
  }, 60_000);
});
