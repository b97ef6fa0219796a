// Our tar readers (the async one, and the push-based one a pull feeds through a reused
// buffer) and layer writer against damaged and hostile archives: a few hundred seeded
// mutations of real layers (bytes flipped in headers, numbers made huge, archives cut
// short, blocks repeated or dropped, believable headers whose name, link or type is
// hostile). Every one must either unpack or fail with our one-line error; none may crash
// with a JavaScript error, hang, or write outside the layer.
// MYCR_TEST_SEED replays a run.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTar } from "../src/image/tar";
import { LayerSink, unpackLayer } from "../src/image/unpack";
import { TarParser } from "../src/image/tar-parser";
import { ContainerError } from "../src/runtime/errors";
import { WORK } from "./helpers/env";
import { Random, testSeed } from "./helpers/random";
import { makeTar, type TarSpec } from "./helpers/tar";

const base = join(WORK, `tar-fuzz-${process.pid}`);
const outside = join(base, "outside");
afterAll(() => rmSync(base, { recursive: true, force: true }));

const long = `${"d".repeat(90)}/${"e".repeat(90)}/${"f".repeat(100)}`;
const SEEDS: TarSpec[][] = [
  [
    { path: "bin/", type: "dir" },
    { path: "bin/busybox", data: "#!/bin/sh\necho hi\n".repeat(50), mode: 0o4755 },
    { path: "bin/sh", type: "symlink", linkname: "busybox" },
    { path: "bin/ls", type: "hardlink", linkname: "bin/busybox" },
    { path: "etc/passwd", data: "root:x:0:0::/root:/bin/sh\n", uid: 0, gid: 0 },
    { path: "run/fifo", type: "fifo" },
    { path: "etc/.wh.shadow", data: "" },
  ],
  [
    { path: long, data: "pax name" },
    { path: `${long}-gnu`, data: "gnu name", gnu: true },
    // vfs_cap_data v2, effective, permitted = cap_net_raw (as ping has)
    { path: "cap", data: "x", xattrs: { "security.capability": "\x01\x00\x00\x02\x00\x20" + "\x00".repeat(14) } },
    { path: "opq/", type: "dir" },
    { path: "opq/.wh..wh..opq", data: "" },
    { path: "link", type: "symlink", linkname: `/${long}` },
  ],
];

/** Overwrites 1-8 bytes inside a (probable) header block, where the parser's decisions are made. */
function flipHeaderBytes(rnd: Random, t: Uint8Array): void {
  const headers = Math.max(1, Math.floor(t.length / 512) - 2);
  const at = rnd.int(0, headers - 1) * 512;
  for (let n = rnd.int(1, 8); n > 0; n--) t[at + rnd.int(0, 511)] = rnd.pick([0, 0x30, 0x37, 0x20, 0xff, 0x80, rnd.int(0, 255)]);
  if (rnd.chance(0.7)) fixChecksum(t, at); // believed, so the damage reaches past the checksum test
}

/** A numeric field (size, mode, uid, mtime) made huge, negative-looking or non-octal, checksum fixed up so it is believed. */
function breakNumber(rnd: Random, t: Uint8Array): void {
  const at = rnd.int(0, Math.max(0, Math.floor(t.length / 512) - 3)) * 512;
  const [off, len] = rnd.pick([[124, 12], [100, 8], [108, 8], [136, 12], [329, 8]] as const);
  const value = rnd.pick(["77777777777", "\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "99999999999", "-1", " ", ""]);
  for (let i = 0; i < len; i++) t[at + off + i] = i < value.length ? value.charCodeAt(i) & 0xff : 0;
  fixChecksum(t, at);
}

function fixChecksum(t: Uint8Array, at: number): void {
  for (let i = 148; i < 156; i++) t[at + i] = 0x20;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += t[at + i]!;
  const text = sum.toString(8).padStart(6, "0") + "\0 ";
  for (let i = 0; i < 8; i++) t[at + 148 + i] = text.charCodeAt(i);
}

/** Where the headers of an intact archive are: each is followed by its content, padded to 512. */
function headerOffsets(t: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= t.length && new TextDecoder().decode(t.subarray(at + 257, at + 262)) === "ustar"; ) {
    out.push(at);
    const size = parseInt(new TextDecoder().decode(t.subarray(at + 124, at + 136)).replace(/\0.*$/, "").trim() || "0", 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const HOSTILE_NAMES = ["../escape", "/../../escape", "a/../../escape", "bin/sh/x", "bin/sh/../../escape", "./", "", ".wh...", ".wh.", "etc/.wh..wh..opq", "bin"];
const HOSTILE_LINKS = ["../../outside/victim", "/../outside/victim", "bin/sh", "bin", "/proc/self/root", "../../../../../etc/passwd", "", "bin/busybox"];

function setField(t: Uint8Array, at: number, off: number, len: number, value: string): void {
  const bytes = new TextEncoder().encode(value).subarray(0, len);
  t.fill(0, at + off, at + off + len);
  t.set(bytes, at + off);
}

/** A believable header (checksum right, size unchanged) that lies: its name, link or type is hostile. */
function lieInHeader(rnd: Random, t: Uint8Array): void {
  const offsets = headerOffsets(t);
  const at = rnd.pick(offsets);
  const what = rnd.int(0, 2);
  if (what === 0) setField(t, at, 0, 100, rnd.pick(HOSTILE_NAMES));
  if (what >= 1) setField(t, at, 157, 100, rnd.pick(HOSTILE_LINKS));
  if (what === 2 || rnd.chance(0.3)) t[at + 156] = rnd.pick([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x4b, 0x4c, 0x78, 0x67]);
  fixChecksum(t, at);
}

function mutate(rnd: Random, tar: Uint8Array): Uint8Array {
  let t = Uint8Array.from(tar); // a copy (makeTar gives a Buffer, whose slice() is a view)
  switch (rnd.int(0, 6)) {
    case 5:
    case 6:
      lieInHeader(rnd, t);
      break;
    case 0:
      flipHeaderBytes(rnd, t);
      break;
    case 1:
      breakNumber(rnd, t);
      break;
    case 2:
      t = t.slice(0, rnd.int(0, t.length - 1)); // cut short
      break;
    case 3: {
      // a block repeated (a header seen twice, or content read as a header)
      const at = rnd.int(0, Math.floor(t.length / 512) - 1) * 512;
      t = new Uint8Array([...t.subarray(0, at), ...t.subarray(at, at + 512), ...t.subarray(at)]);
      break;
    }
    default: {
      const at = rnd.int(0, Math.floor(t.length / 512) - 1) * 512; // a block dropped
      t = new Uint8Array([...t.subarray(0, at), ...t.subarray(at + 512)]);
    }
  }
  return t;
}

async function* chunks(rnd: Random, data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; ) {
    const n = rnd.int(1, 2048);
    yield data.subarray(i, i + n);
    i += n;
  }
}

/** The pull's way: the push-based reader fed through one reused buffer, as the inflater feeds it. */
async function unpackPushed(rnd: Random, tar: Uint8Array, dir: string): Promise<void> {
  const files = new LayerSink(dir);
  try {
    const parser = new TarParser(files);
    const buf = new Uint8Array(2048);
    for await (const piece of chunks(rnd, tar)) {
      buf.set(piece);
      parser.push(buf.subarray(0, piece.length));
      buf.fill(0xee);
    }
    parser.finish();
    files.finish();
  } finally {
    files.close();
  }
}

/** Every other case through each reader: the async one (cp, archives) and the pull's. */
function unpackEither(i: number, rnd: Random, tar: Uint8Array, dir: string): Promise<unknown> {
  return i % 2 === 0 ? unpackLayer(readTar(chunks(rnd, tar)), dir) : unpackPushed(rnd, tar, dir);
}

test("mutated layers unpack or fail with a one-line error; nothing escapes, nothing hangs", async () => {
  const rnd = new Random(testSeed("tar-fuzz"));
  const tars = SEEDS.map((s) => makeTar(s));
  const outcomes = { unpacked: 0, refused: 0 };
  for (const tar of tars) {
    // the seeds themselves are fine layers: what is refused below is refused for the damage
    rmSync(base, { recursive: true, force: true });
    mkdirSync(join(base, "layer"), { recursive: true });
    await unpackEither(tars.indexOf(tar), rnd, tar, join(base, "layer"));
  }
  for (let i = 0; i < 400; i++) {
    rmSync(base, { recursive: true, force: true });
    const layer = join(base, "layer");
    mkdirSync(layer, { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, "victim"), "untouched");
    const input = mutate(rnd, rnd.pick(tars));
    const started = Date.now();
    try {
      await unpackEither(i, rnd, input, layer);
      outcomes.unpacked++;
    } catch (e) {
      // ours: a message that names the layer entry or the tar, on one line
      if (!(e instanceof ContainerError)) throw new Error(`case ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      expect(e.message).toMatch(/^layer/);
      expect(e.message).not.toContain("\n");
      outcomes.refused++;
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(base).sort()).toEqual(["layer", "outside"]);
    expect(readdirSync(outside)).toEqual(["victim"]);
  }
  console.log(`tar fuzz: ${outcomes.unpacked} unpacked, ${outcomes.refused} refused`);
  expect(outcomes.refused).toBeGreaterThan(0);
}, 120_000);
