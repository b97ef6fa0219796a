// Image archives and names: load of docker-archive and oci-archive files made by skopeo,
// save checked by skopeo and podman (independent clients verify our digests), save ->
// rmi -> load round trips, import of a root filesystem tar, tag; hostile and broken
// archives fail with one line and leave nothing in the store.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, WORK, mycrEnv } from "./helpers/env";
import { mycr, type Result } from "./helpers/mycr";
import { OciLayout, sha } from "./helpers/oci-layout";
import { push, startRegistry } from "./helpers/registry";
import { busyboxRootfs } from "./helpers/rootfs";
import { busyboxLayerEntries, makeTar } from "./helpers/tar";

let dir: string;
const busyboxTar = makeTar(busyboxLayerEntries());
/** What the test image's default command prints. */
const EXPECTED = "/data:\nb\n\n/opq:\nnew\nhello from layers\n";

async function ok(args: string[]): Promise<Result> {
  const r = await mycr(args, { timeoutMs: 90_000 });
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

/** mycr with a file on stdin and stdout to a file (binary either way). */
async function mycrPiped(args: string[], stdin?: string, stdout?: string): Promise<Result> {
  const proc = Bun.spawn([MYCR, ...args], {
    stdin: stdin !== undefined ? Bun.file(stdin) : "ignore",
    stdout: stdout !== undefined ? Bun.file(stdout) : "pipe",
    stderr: "pipe",
    env: mycrEnv(),
  });
  const [out, err] = await Promise.all([stdout === undefined ? new Response(proc.stdout as ReadableStream).text() : "", new Response(proc.stderr).text()]);
  return { exitCode: await proc.exited, stdout: out, stderr: err };
}

function run(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** The store's layers, blobs and short links, temp names included. */
function storeListing(): string[] {
  const list = (d: string) => (existsSync(join(TEST_ROOT, d)) ? readdirSync(join(TEST_ROOT, d)).map((n) => `${d}/${n}`) : []);
  return [...list("layers"), ...list("blobs/sha256"), ...list("l")].sort();
}

function imageIds(): string {
  return readFileSync(join(TEST_ROOT, "images/refs.json"), "utf8");
}

function idOf(name: string): string | undefined {
  return (JSON.parse(imageIds()) as { name: string; config: string }[]).find((r) => r.name === name)?.config;
}

let layout: string;

/** The test image as an OCI layout; `last` compresses its whiteout layer (skopeo's docker-archive cannot take zstd). */
function buildLayout(path: string, last: "none" | "zstd"): void {
  const l = new OciLayout(path);
  l.tag(
    l.image({
      layers: [
        { tar: busyboxTar },
        {
          // pax and GNU long names, an xattr, a hard link: save must write these headers back as they were
          tar: makeTar([
            { path: "data/a", data: "a" },
            { path: "data/b", data: "b" },
            { path: "opq/old", data: "o" },
            { path: "etc/msg", data: "hello from layers\n", mtime: 1600000000 },
            { path: `long/${"p".repeat(120)}`, data: "pax name", xattrs: { "user.note": "kept" } },
            { path: `long/${"g".repeat(120)}`, data: "gnu name", gnu: true },
            { path: "long/hard", type: "hardlink", linkname: "etc/msg" },
          ]),
        },
        {
          tar: makeTar([{ path: "data/.wh.a", data: "" }, { path: "opq/", type: "dir" }, { path: "opq/.wh..wh..opq", data: "" }, { path: "opq/new", data: "n" }]),
          compression: last,
        },
      ],
      config: { Cmd: ["sh", "-c", "ls /data /opq; cat /etc/msg"], Env: ["PATH=/bin"] },
    }),
    "t",
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(WORK, "archives-"));
  layout = join(dir, "layout");
  buildLayout(layout, "none");
});

afterAll(async () => {
  const refs = existsSync(join(TEST_ROOT, "images/refs.json")) ? (JSON.parse(imageIds()) as { name: string; config: string }[]) : [];
  for (const r of refs) await mycr(["rmi", r.name || r.config.slice(7)]);
  expect(storeListing()).toEqual([]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("load", () => {
  test("a docker-archive made by skopeo: Loaded image: NAME, the image runs", async () => {
    const file = join(dir, "skopeo.docker.tar");
    run(["skopeo", "copy", "-q", `oci:${layout}:t`, `docker-archive:${file}:example.com/team/app:1`]);
    const r = await ok(["load", "-i", file]);
    expect(r.stdout).toBe("Loaded image: example.com/team/app:1\n");
    expect((await ok(["run", "--network", "none", "--image", "example.com/team/app:1"])).stdout).toBe(EXPECTED);
    expect((await ok(["images"])).stdout).toContain("example.com/team/app");
  }, 120_000);

  test("an oci-archive made by skopeo, from stdin: a bare ref.name goes under localhost/ (as podman does)", async () => {
    const file = join(dir, "skopeo.oci.tar");
    run(["skopeo", "copy", "-q", `oci:${layout}:t`, `oci-archive:${file}:mytag`]);
    const r = await mycrPiped(["load", "-q"], file);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Loaded image: localhost/mytag:latest\n");
    expect((await ok(["run", "--network", "none", "--image", "localhost/mytag", "cat", "/etc/msg"])).stdout).toBe("hello from layers\n");
    await ok(["rmi", "localhost/mytag"]);
  }, 120_000);

  test("a gzip-compressed archive; an untagged image is shown as <none> and used by id", async () => {
    const file = join(dir, "untagged.docker.tar");
    run(["skopeo", "copy", "-q", `oci:${layout}:t`, `docker-archive:${file}`]);
    run(["gzip", "-k", file]);
    const r = await ok(["load", "-i", `${file}.gz`]);
    const id = /^Loaded image ID: sha256:([a-f0-9]{64})\n$/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    // skopeo's docker-archive keeps the config as it was: the same image id as the named one
    expect(imageIds()).toContain(`"config": "sha256:${id}"`);
  }, 120_000);
});

describe("load: formats by hand", () => {
  test("docker-archive with gzip and zstd layers and a short name; an oci-archive whose entry is an index (host platform chosen)", async () => {
    const top = makeTar([{ path: "etc/msg", data: "compressed layers\n" }]);
    const cfg = JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["cat", "/etc/msg"] }, rootfs: { type: "layers", diff_ids: [sha(busyboxTar), sha(top)] } });
    const file = join(dir, "compressed.docker.tar");
    writeFileSync(
      file,
      makeTar([
        { path: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["mini"], Layers: ["one/layer.tar", "two/layer.tar"] }]) },
        { path: "cfg.json", data: cfg },
        { path: "one/", type: "dir" },
        { path: "one/layer.tar", data: Bun.gzipSync(busyboxTar as Uint8Array<ArrayBuffer>) },
        { path: "two/", type: "dir" },
        { path: "two/layer.tar", data: Bun.zstdCompressSync(top) },
      ]),
    );
    expect((await ok(["load", "-q", "-i", file])).stdout).toBe("Loaded image: docker.io/library/mini:latest\n");
    expect((await ok(["run", "--network", "none", "--image", "mini"])).stdout).toBe("compressed layers\n");
    await ok(["rmi", "mini"]);

    // an OCI layout with a multi-platform index, tarred as it is, is an oci-archive
    const multi = join(dir, "multi-layout");
    const l = new OciLayout(multi);
    const img = (architecture: string, variant?: string) =>
      l.image({ architecture, variant, layers: [{ tar: busyboxTar }, { tar: makeTar([{ path: "platform", data: architecture }]) }], config: { Cmd: ["cat", "/platform"] } });
    const idx = l.index([img("ppc64le"), img("arm64", "v8"), img("amd64")]);
    writeFileSync(join(multi, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...idx, annotations: { "org.opencontainers.image.ref.name": "example.org/multi:3" } }] }));
    const archive = join(dir, "multi.oci.tar");
    run(["tar", "-C", multi, "-cf", archive, "."]);
    expect((await ok(["load", "-q", "-i", archive])).stdout).toBe("Loaded image: example.org/multi:3\n");
    expect((await ok(["run", "--network", "none", "--image", "example.org/multi:3"])).stdout).toBe(process.arch === "arm64" ? "arm64" : "amd64");
    await ok(["rmi", "example.org/multi:3"]);
  }, 120_000);
});

describe("save", () => {
  test("docker-archive: skopeo inspects and copies it (verifying every digest), podman loads it; save -> rmi -> load runs again", async () => {
    const before = (await ok(["images", "-q"])).stdout;
    const file = join(dir, "saved.docker.tar");
    await ok(["save", "-o", file, "example.com/team/app:1"]);
    const inspect = JSON.parse(run(["skopeo", "inspect", `docker-archive:${file}`])) as { Layers: string[] };
    expect(inspect.Layers).toHaveLength(3);
    const copy = join(dir, "copied");
    run(["skopeo", "copy", "-q", `docker-archive:${file}`, `oci:${copy}:x`]);
    // podman, in a store of its own
    const pod = mkdtempSync("/tmp/mycr-podman-"); // podman wants a short runroot
    const podman = ["podman", "--root", join(pod, "root"), "--runroot", join(pod, "run"), "--storage-driver", "vfs"];
    const loaded = Bun.spawnSync([...podman, "load", "-i", file], { stderr: "pipe" });
    expect(loaded.stdout.toString() + loaded.stderr.toString()).toContain("Loaded image: example.com/team/app:1");
    const podId = Bun.spawnSync([...podman, "images", "-q", "--no-trunc"]).stdout.toString().trim();
    // and what podman saves, we load
    const podmanSaved = join(dir, "podman-saved.oci.tar");
    const saved = Bun.spawnSync([...podman, "save", "--format", "oci-archive", "-o", podmanSaved, "example.com/team/app:1"], { stderr: "pipe" });
    Bun.spawnSync([...podman, "rmi", "-a", "-f"]);
    rmSync(pod, { recursive: true, force: true });
    expect(saved.exitCode).toBe(0);
    expect(idOf("example.com/team/app:1")).toBe(podId);

    await ok(["rmi", "example.com/team/app:1"]);
    // (podman writes the config as an OCI config: another image id, the same files)
    expect((await ok(["load", "-q", "-i", podmanSaved])).stdout).toBe("Loaded image: example.com/team/app:1\n");
    expect((await ok(["run", "--network", "none", "--image", "example.com/team/app:1"])).stdout).toBe(EXPECTED);
    await ok(["rmi", "example.com/team/app:1"]);
    expect((await ok(["load", "-i", file])).stdout).toBe("Loaded image: example.com/team/app:1\n");
    expect((await ok(["run", "--network", "none", "--image", "example.com/team/app:1"])).stdout).toBe(EXPECTED);
    expect((await ok(["images", "-q"])).stdout).toBe(before);
  }, 180_000);

  test("oci-archive to stdout; a terminal is refused; skopeo reads it; round trip keeps the id", async () => {
    const file = join(dir, "saved.oci.tar");
    const r = await mycrPiped(["save", "--format", "oci-archive", "example.com/team/app:1"], undefined, file);
    expect(r.exitCode).toBe(0);
    const inspect = JSON.parse(run(["skopeo", "inspect", `oci-archive:${file}:example.com/team/app:1`])) as { Layers: string[] };
    expect(inspect.Layers).toHaveLength(3);
    run(["skopeo", "copy", "-q", `oci-archive:${file}:example.com/team/app:1`, `oci:${join(dir, "copied-oci")}:x`]);
    const ids = (await ok(["images", "-q"])).stdout;
    await ok(["rmi", "example.com/team/app:1"]);
    expect((await ok(["load", "-i", file])).stdout).toBe("Loaded image: example.com/team/app:1\n");
    expect((await ok(["images", "-q"])).stdout).toBe(ids);
    expect((await ok(["run", "--network", "none", "--image", "example.com/team/app:1"])).stdout).toBe(EXPECTED);
    const tty = Bun.spawnSync(["script", "-qec", `${MYCR} save example.com/team/app:1`, "/dev/null"], { env: mycrEnv() });
    expect(tty.stdout.toString()).toContain("refusing to write an archive to a terminal");
  }, 180_000);

  test("a pulled image (gzip and zstd layers, whiteouts) saves with its own image id and diff ids", async () => {
    const reg = await startRegistry();
    try {
      const ref = `${reg.host}/pulled:1`;
      const zstd = join(dir, "layout-zstd");
      buildLayout(zstd, "zstd");
      push(zstd, "t", ref);
      const id = `sha256:${(await ok(["pull", "-q", ref])).stdout.trim()}`;
      const file = join(dir, "pulled.tar");
      await ok(["save", "-o", file, ref]);
      // skopeo verifies each layer against the config's diff ids as it copies
      run(["skopeo", "copy", "-q", `docker-archive:${file}`, `oci:${join(dir, "pulled-copy")}:x`]);
      await ok(["rmi", ref]);
      expect((await ok(["load", "-q", "-i", file])).stdout).toBe(`Loaded image: ${ref}\n`);
      expect(idOf(ref)).toBe(id);
      expect((await ok(["run", "--network", "none", "--image", ref])).stdout).toBe(EXPECTED);
      await ok(["rmi", ref]);
    } finally {
      await reg.stop();
    }
  }, 120_000);

  test("layers written by GNU tar in gnu, posix (pax) and ustar formats come back byte for byte", async () => {
    const src = mkdtempSync(join(dir, "formats-"));
    run(["cp", "-a", `${busyboxRootfs()}/.`, src]);
    writeFileSync(join(src, `${"n".repeat(150)}.txt`), "a long name\n");
    for (const format of ["gnu", "posix", "ustar"]) {
      const tar = join(dir, `rootfs-${format}.tar`);
      // ustar cannot hold the long name: leave it out there
      const exclude = format === "ustar" ? ["--exclude", `./${"n".repeat(150)}.txt`] : [];
      run(["tar", `--format=${format}`, ...exclude, "-C", src, "-cf", tar, "."]);
      const id = (await ok(["import", tar, `formats:${format}`])).stdout.trim();
      const saved = join(dir, `saved-${format}.tar`);
      await ok(["save", "-o", saved, `formats:${format}`]);
      const manifest = JSON.parse(run(["tar", "-xOf", saved, "manifest.json"])) as { Layers: string[] }[];
      const layer = Bun.spawnSync(["tar", "-xOf", saved, manifest[0]!.Layers[0]!]).stdout;
      expect(Buffer.compare(layer, readFileSync(tar))).toBe(0);
      await ok(["rmi", id.slice(7)]);
    }
  }, 120_000);

  test("a layer whose files changed since it was unpacked is refused, not written with a wrong digest", async () => {
    const tar = join(dir, "small.tar");
    writeFileSync(tar, makeTar([{ path: "f", data: "original" }]));
    const id = (await ok(["import", tar, "changed:1"])).stdout.trim();
    const chain = sha(readFileSync(tar)).slice(7);
    writeFileSync(join(TEST_ROOT, "layers", chain, "diff/f"), "modified"); // same length, other bytes
    const r = await mycr(["save", "-o", join(dir, "changed.tar"), "changed:1"]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toBe(`mycr: save: layer sha256:${chain}: written again it is ${sha(makeTar([{ path: "f", data: "modified" }]))}: its files changed since it was unpacked (or its tar held a path twice)\n`);
    expect(existsSync(join(dir, "changed.tar"))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    await ok(["rmi", id.slice(7)]);
  }, 60_000);
});

describe("import and tag", () => {
  test("import of tar -C rootfs -c . with --change; from stdin untagged; tag then run by the new name", async () => {
    const tar = join(dir, "rootfs.tar");
    run(["tar", "-C", busyboxRootfs(), "-cf", tar, "."]);
    const r = await ok(["import", "-c", 'CMD ["sh", "-c", "echo $GREETING from $(pwd) as $(id -un)"]', "--change", "ENV GREETING=hi PATH=/bin", "-c", "WORKDIR /tmp", "-c", "USER app", tar, "imported:1"]);
    expect(r.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect((await ok(["run", "--network", "none", "--image", "imported:1"])).stdout).toBe("hi from /tmp as app\n");
    // the layer's diff id is the tar's own digest
    expect(existsSync(join(TEST_ROOT, "layers", sha(readFileSync(tar)).slice(7), "diff/bin/busybox"))).toBe(true);

    run(["sh", "-c", `gzip -c ${tar} > ${tar}.gz`]);
    const untagged = await mycrPiped(["import", "-"], `${tar}.gz`);
    expect(untagged.exitCode).toBe(0);
    const id = untagged.stdout.trim().slice(7, 19);
    expect((await ok(["images"])).stdout).toMatch(new RegExp(`<none> +<none> +${id}`));
    await ok(["tag", id, "localhost/named:2"]);
    expect((await ok(["images"])).stdout).not.toContain("<none>");
    expect((await ok(["run", "--network", "none", "--image", "localhost/named:2", "echo", "by", "name"])).stdout).toBe("by name\n");
    // a name moved to another image leaves the old one untagged, still there by id
    await ok(["tag", "imported:1", "localhost/named:2"]);
    expect((await ok(["images"])).stdout).toMatch(new RegExp(`<none> +<none> +${id}`));
    expect((await ok(["run", "--network", "none", "--image", "localhost/named:2"])).stdout).toBe("hi from /tmp as app\n");
    expect((await ok(["run", "--network", "none", "--image", id, "echo", "by", "id"])).stdout).toBe("by id\n");
    await ok(["rmi", id]);

    const missing = await mycr(["tag", "nope:1", "x:1"]);
    expect([missing.exitCode, missing.stderr]).toEqual([125, "mycr: tag: no such image: nope:1\n"]);
    const digest = await mycr(["tag", "imported:1", `x@sha256:${"a".repeat(64)}`]);
    expect(digest.stderr).toBe(`mycr: tag: "x@sha256:${"a".repeat(64)}" names a digest; a local image is named with a tag\n`);
    const change = await mycr(["import", "-c", "ONBUILD RUN x", tar]);
    expect(change.stderr).toBe('mycr: --change "ONBUILD RUN x": ONBUILD is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR are)\n');
  }, 120_000);
});

describe("broken and hostile archives: one line, exit 125, nothing left in the store", () => {
  const config = (diffIds: string[]) => JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: diffIds } });
  const layer = makeTar([{ path: "f", data: "layer" }]);
  const dockerArchive = (entries: Parameters<typeof makeTar>[0]) => makeTar(entries);

  const cases: [string, () => string, (file: string) => string][] = [
    ["missing file", () => join(dir, "does-not-exist.tar"), (f) => `mycr: load ${f}: no such file\n`],
    [
      "not a tar",
      () => {
        const f = join(dir, "not-a-tar");
        writeFileSync(f, "just some text, more than one block of it ".repeat(20));
        return f;
      },
      (f) => `mycr: load ${f}: not a tar archive (or a corrupt one)\n`,
    ],
    [
      "truncated archive",
      () => {
        const whole = readFileSync(join(dir, "saved.docker.tar"));
        const f = join(dir, "truncated.tar");
        writeFileSync(f, whole.subarray(0, Math.floor(whole.length / 2)));
        return f;
      },
      (f) => `mycr: load ${f}: truncated archive\n`,
    ],
    [
      "layer content not matching its diff id",
      () => {
        const f = join(dir, "mismatch.tar");
        const wrong = sha("something else");
        writeFileSync(f, dockerArchive([{ path: "l.tar", data: layer }, { path: "c.json", data: config([wrong]) }, { path: "manifest.json", data: JSON.stringify([{ Config: "c.json", RepoTags: ["bad:1"], Layers: ["l.tar"] }]) }]));
        return f;
      },
      (f) => `mycr: load ${f}: layer l.tar: diff id mismatch: the uncompressed content is ${sha(layer)}, not ${sha("something else")}\n`,
    ],
    [
      "oci blob not matching its digest",
      () => {
        const f = join(dir, "oci-mismatch.tar");
        const cfg = config([sha(layer)]);
        const fake = sha("not the layer");
        const manifest = JSON.stringify({ schemaVersion: 2, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(cfg), size: cfg.length }, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: fake, size: layer.length }] });
        writeFileSync(
          f,
          makeTar([
            { path: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
            { path: `blobs/sha256/${fake.slice(7)}`, data: layer },
            { path: `blobs/sha256/${sha(cfg).slice(7)}`, data: cfg },
            { path: `blobs/sha256/${sha(manifest).slice(7)}`, data: manifest },
            { path: "index.json", data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length }] }) },
          ]),
        );
        return f;
      },
      (f) => `mycr: load ${f}: layer ${sha("not the layer")}: digest mismatch: the content is ${sha(layer)}, not ${sha("not the layer")}\n`,
    ],
    [
      "an entry escaping the archive",
      () => {
        const f = join(dir, "escape.tar");
        writeFileSync(f, dockerArchive([{ path: "../../evil", data: "x" }, { path: "manifest.json", data: "[]" }]));
        return f;
      },
      (f) => `mycr: load ${f}: archive entry "../../evil" leaves the archive (..)\n`,
    ],
    [
      "a layer reached through a symlink out of the archive",
      () => {
        const f = join(dir, "symlink.tar");
        writeFileSync(
          f,
          dockerArchive([
            { path: "x", type: "symlink", linkname: "../../../etc" },
            { path: "c.json", data: config([sha(layer)]) },
            { path: "manifest.json", data: JSON.stringify([{ Config: "c.json", RepoTags: [], Layers: ["x/shadow"] }]) },
          ]),
        );
        return f;
      },
      (f) => `mycr: load ${f}: archive link "../../../etc" leaves the archive\n`,
    ],
    [
      "a hostile layer inside a valid archive",
      () => {
        const f = join(dir, "hostile-layer.tar");
        const evil = makeTar([{ path: "../outside", data: "x" }]);
        writeFileSync(f, dockerArchive([{ path: "l.tar", data: evil }, { path: "c.json", data: config([sha(evil)]) }, { path: "manifest.json", data: JSON.stringify([{ Config: "c.json", RepoTags: ["evil:1"], Layers: ["l.tar"] }]) }]));
        return f;
      },
      (f) => `mycr: load ${f}: layer l.tar: entry "../outside": the path leaves the layer (..)\n`,
    ],
  ];

  for (const [name, make, message] of cases) {
    test(name, async () => {
      const before = storeListing();
      const refs = imageIds();
      const file = make();
      const r = await mycr(["load", "-q", "-i", file]);
      expect(r.stderr).toBe(message(file));
      expect(r.exitCode).toBe(125);
      expect(storeListing()).toEqual(before);
      expect(imageIds()).toBe(refs);
    }, 60_000);
  }

  test("import: missing file, not a tar, truncated gzip", async () => {
    const before = storeListing();
    const missing = await mycr(["import", join(dir, "nope.tar")]);
    expect([missing.exitCode, missing.stderr]).toEqual([125, `mycr: import ${join(dir, "nope.tar")}: no such file\n`]);
    const text = join(dir, "text");
    writeFileSync(text, "x".repeat(2000));
    expect((await mycr(["import", text])).stderr).toBe(`mycr: import ${text}: root filesystem: not a tar archive (tar header checksum "xxxxxxxx" is not an octal number)\n`);
    const gz = join(dir, "cut.tar.gz");
    writeFileSync(gz, Bun.gzipSync(busyboxTar as Uint8Array<ArrayBuffer>).subarray(0, 5000));
    const cut = await mycr(["import", gz]);
    expect(cut.exitCode).toBe(125);
    expect(cut.stderr).toMatch(new RegExp(`^mycr: import ${gz}: root filesystem: gzip: .+\n$`));
    expect(storeListing()).toEqual(before);
  }, 60_000);
});
