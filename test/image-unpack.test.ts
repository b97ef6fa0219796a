// Layer unpacking against hostile and unusual tars, and reference normalisation:
// the store's code called directly (no registry needed).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTar } from "../src/image/tar";
import { LayerSink, unpackLayer, type UnpackStats } from "../src/image/unpack";
import { TarParser } from "../src/image/tar-parser";
import { parseReference, formatReference } from "../src/image/reference";
import { chainIds } from "../src/image/store";
import { selectManifest, parsePlatform } from "../src/image/platform";
import { lgetxattr } from "../src/sys";
import { makeTar, type TarSpec } from "./helpers/tar";
import { WORK } from "./helpers/env";

const base = join(WORK, `unpack-${process.pid}`);
const layer = join(base, "layer");
const outside = join(base, "outside");

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  // odd chunk sizes, so headers and contents straddle chunks
  for (let i = 0; i < data.length; i += 777) yield data.subarray(i, i + 777);
}

/**
 * The two ways a tar reaches the disk: the async reader (cp, archives, build) and the
 * push-based one a pull uses, fed through one reused buffer as the inflater feeds it
 * (so whatever the parser keeps must be its own copy).
 */
const readers: Record<string, (tar: Uint8Array) => Promise<UnpackStats>> = {
  "async reader": (tar) => unpackLayer(readTar(once(tar)), layer),
  "push reader (pull)": async (tar) => {
    const files = new LayerSink(layer);
    try {
      const parser = new TarParser(files);
      const buf = new Uint8Array(777);
      for (let i = 0; i < tar.length; i += 777) {
        const piece = tar.subarray(i, i + 777);
        buf.set(piece);
        parser.push(buf.subarray(0, piece.length));
        buf.fill(0xee); // what the parser did not copy is gone
      }
      parser.finish();
      return files.finish();
    } finally {
      files.close();
    }
  },
};

beforeEach(() => {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(layer, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "victim"), "untouched");
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

for (const [reader, unpackTar] of Object.entries(readers)) {
const unpack = (entries: TarSpec[]) => unpackTar(makeTar(entries));
describe(reader, () => {
  describe("hostile layers", () => {
    test("a path with .. is refused", async () => {
      await expect(unpack([{ path: "../outside/evil", data: "x" }])).rejects.toThrow('layer entry "../outside/evil": the path leaves the layer (..)');
      await expect(unpack([{ path: "a/../../outside/evil", data: "x" }])).rejects.toThrow("leaves the layer");
      expect(existsSync(join(outside, "evil"))).toBe(false);
    });

    test("an absolute path lands inside the layer", async () => {
      await unpack([{ path: `/${outside.slice(1)}/abs`, data: "x" }]);
      expect(existsSync(join(outside, "abs"))).toBe(false);
      expect(readFileSync(join(layer, outside, "abs"), "utf8")).toBe("x");
    });

    test("writing through a symlink to an absolute dir stays inside", async () => {
      await unpack([
        { path: "link", type: "symlink", linkname: outside },
        { path: "link/evil", data: "x" },
      ]).catch(() => {});
      expect(existsSync(join(outside, "evil"))).toBe(false);
    });

    test("writing through a symlink with .. stays inside", async () => {
      await unpack([
        { path: "up", type: "symlink", linkname: "../../../../../../../../" + outside.slice(1) },
        { path: "up/evil", data: "x" },
      ]).catch(() => {});
      expect(existsSync(join(outside, "evil"))).toBe(false);
      await unpack([
        { path: "dotdot", type: "symlink", linkname: "../../../.." },
        { path: "dotdot/evil2", data: "x" },
      ]);
      expect(existsSync(join(base, "evil2"))).toBe(false);
      expect(readFileSync(join(layer, "evil2"), "utf8")).toBe("x"); // `..` stops at the layer root
    });

    test("a file over a symlink replaces the link, never writes its target", async () => {
      await unpack([
        { path: "victim", type: "symlink", linkname: join(outside, "victim") },
        { path: "victim", data: "overwritten" },
      ]);
      expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
      expect(lstatSync(join(layer, "victim")).isFile()).toBe(true);
    });

    test("hard links to files outside the layer are refused", async () => {
      await expect(unpack([{ path: "h", type: "hardlink", linkname: "../outside/victim" }])).rejects.toThrow("leaves the layer");
      await expect(unpack([{ path: "h", type: "hardlink", linkname: join(outside, "victim") }])).rejects.toThrow("which is not in this layer");
      await expect(
        unpack([
          { path: "s", type: "symlink", linkname: outside },
          { path: "h", type: "hardlink", linkname: "s/victim" },
        ]),
      ).rejects.toThrow();
      expect(statSync(join(outside, "victim")).nlink).toBe(1);
    });

    test("device nodes are left out", async () => {
      const stats = await unpack([
        { path: "dev/", type: "dir" },
        { path: "dev/sda", type: "block", major: 8, minor: 0 },
        { path: "dev/mem", type: "char", major: 1, minor: 1 },
      ]);
      expect(stats.skippedDevices).toEqual(["dev/sda", "dev/mem"]);
      expect(existsSync(join(layer, "dev/sda"))).toBe(false);
      expect(existsSync(join(layer, "dev/mem"))).toBe(false);
    });

    test("overlay xattrs cannot be smuggled in", async () => {
      await unpack([{ path: "d/", type: "dir", xattrs: { "trusted.overlay.redirect": "/etc", "user.note": "kept" } }]);
      expect(lgetxattr(join(layer, "d"), "trusted.overlay.redirect")).toBeNull();
      expect(lgetxattr(join(layer, "d"), "user.note")?.toString()).toBe("kept");
    });
  });

  describe("faithful layers", () => {
    test("whiteouts and opaque directories become overlayfs's", async () => {
      await unpack([
        { path: "data/", type: "dir" },
        { path: "data/.wh.gone", data: "" },
        { path: "opq/", type: "dir" },
        { path: "opq/.wh..wh..opq", data: "" },
        { path: "opq/new", data: "n" },
      ]);
      const wh = lstatSync(join(layer, "data/gone"));
      expect(wh.isCharacterDevice()).toBe(true);
      expect(wh.rdev).toBe(0);
      expect(lgetxattr(join(layer, "opq"), "trusted.overlay.opaque")?.toString()).toBe("y");
      expect(readFileSync(join(layer, "opq/new"), "utf8")).toBe("n");
      expect(existsSync(join(layer, "opq/.wh..wh..opq"))).toBe(false);
    });

    test("owners, setuid modes, mtimes, xattrs, hard links, fifos and symlinks are kept", async () => {
      await unpack([
        { path: "bin/", type: "dir", mtime: 1600000000 },
        { path: "bin/su", data: "su", mode: 0o4755, uid: 0, gid: 0, mtime: 1500000000 },
        { path: "bin/sg", data: "sg", mode: 0o2755, uid: 1000, gid: 50 },
        { path: "bin/ping", data: "ping", mode: 0o755, xattrs: { "security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" } },
        { path: "bin/su-again", type: "hardlink", linkname: "bin/su" },
        { path: "run/fifo", type: "fifo", mode: 0o620 },
        { path: "bin/sh", type: "symlink", linkname: "/bin/busybox", uid: 1000, gid: 1000 },
      ]);
      const su = statSync(join(layer, "bin/su"));
      expect(su.mode & 0o7777).toBe(0o4755);
      expect(su.mtimeMs).toBe(1500000000_000);
      expect(su.nlink).toBe(2);
      expect(su.ino).toBe(statSync(join(layer, "bin/su-again")).ino);
      const sg = statSync(join(layer, "bin/sg"));
      expect([sg.mode & 0o7777, sg.uid, sg.gid]).toEqual([0o2755, 1000, 50]);
      expect(lgetxattr(join(layer, "bin/ping"), "security.capability")?.length).toBe(20);
      expect(statSync(join(layer, "bin")).mtimeMs).toBe(1600000000_000);
      const fifo = lstatSync(join(layer, "run/fifo"));
      expect(fifo.isFIFO()).toBe(true);
      expect(fifo.mode & 0o777).toBe(0o620);
      expect(readlinkSync(join(layer, "bin/sh"))).toBe("/bin/busybox");
      expect(lstatSync(join(layer, "bin/sh")).uid).toBe(1000);
    });

    test("a file's owner and mode are the tar's even where the kernel's defaults differ (setgid dir, umask)", async () => {
      await unpack([
        { path: "shared/", type: "dir", mode: 0o2775, gid: 50 },
        { path: "shared/root-file", data: "r", mode: 0o664, uid: 0, gid: 0 },
        { path: "shared/group-file", data: "g", mode: 0o640, uid: 0, gid: 50 },
        { path: "open", data: "o", mode: 0o777 },
        { path: "closed", data: "c", mode: 0o000 },
      ]);
      const owner = (p: string) => {
        const st = statSync(join(layer, p));
        return [st.mode & 0o7777, st.uid, st.gid];
      };
      expect(owner("shared")).toEqual([0o2775, 0, 50]);
      expect(owner("shared/root-file")).toEqual([0o664, 0, 0]); // not the setgid dir's group
      expect(owner("shared/group-file")).toEqual([0o640, 0, 50]);
      expect(owner("open")).toEqual([0o777, 0, 0]); // not less the umask
      expect(owner("closed")).toEqual([0o000, 0, 0]);
    });

    test("long names through pax and GNU headers", async () => {
      const long = `${"d".repeat(80)}/${"e".repeat(80)}/${"f".repeat(120)}`;
      await unpack([
        { path: long, data: "pax" },
        { path: `${long}-gnu`, data: "gnu", gnu: true },
        { path: "l", type: "symlink", linkname: `/${long}-target-${"x".repeat(50)}`, gnu: true },
      ]);
      expect(readFileSync(join(layer, long), "utf8")).toBe("pax");
      expect(readFileSync(join(layer, `${long}-gnu`), "utf8")).toBe("gnu");
      expect(readlinkSync(join(layer, "l"))).toBe(`/${long}-target-${"x".repeat(50)}`);
    });

    test("a corrupt header is an error", async () => {
      const t = makeTar([{ path: "a", data: "x" }]);
      t[0] = 0x41;
      await expect(unpackTar(t)).rejects.toThrow("checksum mismatch");
    });

    test("numeric header fields: octal with spaces or NULs, base-256, anything else refused", async () => {
      /** The tar with header field [off, off+len) of its first entry replaced, checksum fixed. */
      const withField = (entries: TarSpec[], off: number, bytes: number[]) => {
        const t = makeTar(entries);
        t.set(bytes, off);
        t.fill(0x20, 148, 156);
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += t[i]!;
        t.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
        return t;
      };
      const ascii = (s: string) => [...new TextEncoder().encode(s)];
      // mode " 755 \0  " (leading and trailing spaces), uid in base-256 (0x80 … 0x03 0xe8 = 1000)
      await unpackTar(withField([{ path: "a", data: "x" }], 100, ascii(" 755 \0  ")));
      expect(statSync(join(layer, "a")).mode & 0o7777).toBe(0o755);
      rmSync(join(layer, "a"));
      await unpackTar(withField([{ path: "b", data: "x" }], 108, [0x80, 0, 0, 0, 0, 0, 0x03, 0xe8]));
      expect(statSync(join(layer, "b")).uid).toBe(1000);
      await expect(unpackTar(withField([{ path: "c", data: "x" }], 100, ascii("07x5\0\0\0\0")))).rejects.toThrow('tar header mode "07x5" is not an octal number');
      await expect(unpackTar(withField([{ path: "d", data: "x" }], 100, ascii("7 55\0\0\0\0")))).rejects.toThrow('tar header mode "7 55" is not an octal number');
    });
  });
});
}

describe("references", () => {
  const cases: [string, string][] = [
    ["alpine", "docker.io/library/alpine:latest"],
    ["alpine:3.20", "docker.io/library/alpine:3.20"],
    ["library/alpine", "docker.io/library/alpine:latest"],
    ["user/app:v1", "docker.io/user/app:v1"],
    ["index.docker.io/user/app", "docker.io/user/app:latest"],
    ["localhost:5000/x", "localhost:5000/x:latest"],
    ["localhost/x", "localhost/x:latest"],
    ["127.0.0.1:5000/a/b/c:1.0", "127.0.0.1:5000/a/b/c:1.0"],
    ["ghcr.io/org/team/app", "ghcr.io/org/team/app:latest"],
    [`alpine@sha256:${"a".repeat(64)}`, `docker.io/library/alpine@sha256:${"a".repeat(64)}`],
    [`quay.io/x:1@sha256:${"b".repeat(64)}`, `quay.io/x:1@sha256:${"b".repeat(64)}`],
  ];
  for (const [given, want] of cases) test(`${given} -> ${want}`, () => expect(formatReference(parseReference(given))).toBe(want));

  test("bad references are refused with the reason", () => {
    expect(() => parseReference("Alpine")).toThrow('invalid image reference "Alpine": repository names must be lowercase');
    expect(() => parseReference("alpine@sha256:12")).toThrow("a digest is sha256:");
    expect(() => parseReference("alpine:bad tag")).toThrow("tag");
    expect(() => parseReference("")).toThrow("empty");
  });

  test("chain ids and platforms", () => {
    const d = [`sha256:${"1".repeat(64)}`, `sha256:${"2".repeat(64)}`];
    const chains = chainIds(d);
    expect(chains[0]).toBe(d[0]!);
    expect(chains[1]).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(`${d[0]} ${d[1]}`).digest("hex")}`);
    const m = (architecture: string, variant?: string) => ({ mediaType: "", digest: architecture + (variant ?? ""), size: 0, platform: { os: "linux", architecture, ...(variant ? { variant } : {}) } });
    const list = [m("amd64"), m("arm", "v7"), m("arm64", "v8"), { mediaType: "", digest: "att", size: 0, platform: { os: "unknown", architecture: "unknown" } }];
    expect(selectManifest(list, parsePlatform("linux/arm64"))?.digest).toBe("arm64v8");
    expect(selectManifest(list, parsePlatform("linux/arm/v7"))?.digest).toBe("armv7");
    expect(selectManifest(list, parsePlatform("linux/s390x"))).toBeUndefined();
    expect(() => parsePlatform("linux")).toThrow("expected OS/ARCH");
  });
});
