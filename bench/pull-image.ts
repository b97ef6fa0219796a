// The image bench/pull.ts pulls: ~200 MB unpacked in 6 gzip layers shaped like a real
// application image (a distro's /usr of many small files, shared libraries, a few large
// files, an application's dependency tree of tiny files, the application, a config layer
// with whiteouts). Content is pseudo-random but deterministic and shaped so gzip finds
// what it finds in real files: text of words (≈2.7:1), binary of repeated byte runs
// (≈2:1), some incompressible data (already-compressed files). Built once into an OCI
// layout and reused while GENERATOR stays the same.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OciLayout } from "../test/helpers/oci-layout";
import { makeTar, type TarSpec } from "../test/helpers/tar";

/** Bump when the content changes, so a cached layout is rebuilt. */
const GENERATOR = 1;
export const TAG = "latest";

/** xorshift32: fast, deterministic, good enough to defeat gzip where it should. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

class Content {
  private readonly r: () => number;
  private readonly words: Uint8Array[] = [];
  private readonly dict = new Uint8Array(1 << 15);

  constructor(seed: number) {
    this.r = rng(seed);
    for (let i = 0; i < 4000; i++) {
      const w = new Uint8Array(2 + (this.r() % 9));
      for (let j = 0; j < w.length; j++) w[j] = 97 + (this.r() % 26);
      this.words.push(w);
    }
    for (let i = 0; i < this.dict.length; i++) this.dict[i] = this.r() & 0xff;
  }

  int(n: number): number {
    return this.r() % n;
  }

  /** Lines of words, common words far more common (as in docs, sources, JSON). */
  text(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let p = 0;
    let col = 0;
    while (p < n) {
      const u = (this.r() % 65536) / 65536;
      const w = this.words[Math.floor(u * u * u * u * this.words.length)]!;
      for (let j = 0; j < w.length && p < n; j++) out[p++] = w[j]!;
      col += w.length + 1;
      if (p < n) out[p++] = col > 70 ? 10 : 32;
      if (col > 70) col = 0;
    }
    return out;
  }

  /** Mostly runs copied from a shared pool (instruction sequences, tables), some literals. */
  binary(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let p = 0;
    while (p < n) {
      const x = this.r();
      if ((x & 7) !== 0) {
        const len = 6 + ((x >>> 2) % 60);
        const at = (x >>> 8) % (this.dict.length - len);
        for (let j = 0; j < len && p < n; j++) out[p++] = this.dict[at + j]!;
      } else {
        const len = 1 + ((x >>> 2) % 12);
        for (let j = 0; j < len && p < n; j++) {
          const b = this.r();
          out[p++] = (b & 7) === 0 ? 0 : (b >>> 24) & ((b >>> 3) & 1 ? 0xff : 0x0f);
        }
      }
    }
    return out;
  }

  random(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const v = new Uint32Array(out.buffer, 0, n >> 2);
    for (let i = 0; i < v.length; i++) v[i] = this.r();
    return out;
  }

  /** Sizes skewed small, as in real trees: most under a few KB, a long tail. */
  size(median: number, max: number): number {
    const u = (this.r() % 100000) / 100000;
    return Math.min(max, Math.max(16, Math.round(median * Math.exp((u - 0.5) * 4))));
  }
}

const MTIME = 1_700_000_000;

function dirs(paths: string[]): TarSpec[] {
  return paths.map((p) => ({ path: `${p}/`, type: "dir" as const, mtime: MTIME }));
}

/** ~75 MB: /usr/share docs (text), /usr/lib and /usr/bin (binaries, .so symlinks, a hard link). */
function baseLayer(c: Content): TarSpec[] {
  const out: TarSpec[] = dirs(["etc", "usr", "usr/bin", "usr/lib", "usr/lib/x86_64-linux-gnu", "usr/share", "usr/share/doc", "usr/share/locale", "var", "var/lib"]);
  out.push({ path: "tmp/", type: "dir", mode: 0o1777, mtime: MTIME });
  for (let pkg = 0; pkg < 900; pkg++) {
    const d = `usr/share/doc/pkg${pkg}`;
    out.push(...dirs([d]));
    const files = 2 + c.int(8);
    for (let f = 0; f < files; f++) out.push({ path: `${d}/file${f}.txt`, data: c.text(c.size(2500, 200_000)), mtime: MTIME });
    out.push({ path: `${d}/changelog.gz`, data: c.random(c.size(1500, 60_000)), mtime: MTIME });
  }
  for (let l = 0; l < 80; l++) {
    const d = `usr/share/locale/l${l}/LC_MESSAGES`;
    out.push(...dirs([`usr/share/locale/l${l}`, d]));
    for (let f = 0; f < 20; f++) out.push({ path: `${d}/dom${f}.mo`, data: c.text(c.size(3000, 100_000)), mtime: MTIME });
  }
  for (let i = 0; i < 700; i++) {
    out.push({ path: `usr/lib/x86_64-linux-gnu/libx${i}.so.1.0.${i % 7}`, data: c.binary(c.size(30_000, 3_000_000)), mode: 0o644, mtime: MTIME });
    out.push({ path: `usr/lib/x86_64-linux-gnu/libx${i}.so.1`, type: "symlink", linkname: `libx${i}.so.1.0.${i % 7}`, mtime: MTIME });
  }
  for (let i = 0; i < 500; i++) out.push({ path: `usr/bin/tool${i}`, data: c.binary(c.size(15_000, 1_500_000)), mode: 0o755, mtime: MTIME });
  out.push({ path: "usr/bin/tool-alias", type: "hardlink", linkname: "usr/bin/tool1", mtime: MTIME });
  for (let i = 0; i < 200; i++) out.push({ path: `etc/conf${i}`, data: c.text(c.size(600, 20_000)), mtime: MTIME });
  out.push({ path: "var/lib/state", data: c.text(100), uid: 1000, gid: 1000, mtime: MTIME });
  return out;
}

/** ~45 MB: a language runtime's libraries, larger binary files. */
function runtimeLayer(c: Content): TarSpec[] {
  const out = dirs(["opt", "opt/runtime", "opt/runtime/lib"]);
  for (let m = 0; m < 60; m++) {
    const d = `opt/runtime/lib/mod${m}`;
    out.push(...dirs([d]));
    for (let f = 0; f < 10; f++) out.push({ path: `${d}/part${f}.so`, data: c.binary(c.size(40_000, 2_000_000)), mtime: MTIME });
  }
  return out;
}

/** ~40 MB in three files: a big binary, an archive (incompressible), a data file. */
function bigLayer(c: Content): TarSpec[] {
  return [
    ...dirs(["opt/big"]),
    { path: "opt/big/engine.bin", data: c.binary(20 << 20), mode: 0o755, mtime: MTIME },
    { path: "opt/big/assets.zip", data: c.random(10 << 20), mtime: MTIME },
    { path: "opt/big/data.json", data: c.text(9 << 20), mtime: MTIME },
  ];
}

/** ~25 MB: an application's dependency tree (node_modules-like), thousands of tiny files. */
function depsLayer(c: Content): TarSpec[] {
  const out = dirs(["app", "app/node_modules"]);
  for (let p = 0; p < 1200; p++) {
    const d = `app/node_modules/dep${p}`;
    out.push(...dirs([d, `${d}/lib`]));
    out.push({ path: `${d}/package.json`, data: c.text(c.size(700, 4000)), mtime: MTIME });
    const files = 2 + c.int(10);
    for (let f = 0; f < files; f++) out.push({ path: `${d}/lib/m${f}.js`, data: c.text(c.size(1500, 80_000)), mtime: MTIME });
  }
  return out;
}

/** ~10 MB: the application itself, owned by its user. */
function appLayer(c: Content): TarSpec[] {
  const out = dirs(["app/src", "app/static"]);
  for (let f = 0; f < 300; f++) out.push({ path: `app/src/f${f}.js`, data: c.text(c.size(6000, 200_000)), uid: 1000, gid: 1000, mtime: MTIME });
  for (let f = 0; f < 40; f++) out.push({ path: `app/static/img${f}.png`, data: c.random(c.size(60_000, 400_000)), uid: 1000, gid: 1000, mtime: MTIME });
  return out;
}

/** A few KB: configuration and whiteouts of what the layers below had. */
function configLayer(c: Content): TarSpec[] {
  const out: TarSpec[] = [];
  for (let f = 0; f < 20; f++) out.push({ path: `etc/conf${f}`, data: c.text(300), mtime: MTIME });
  for (let pkg = 0; pkg < 50; pkg++) out.push({ path: `usr/share/doc/.wh.pkg${pkg}`, data: "", mtime: MTIME });
  out.push(...dirs(["usr/share/locale/l0"]), { path: "usr/share/locale/l0/.wh..wh..opq", data: "", mtime: MTIME });
  return out;
}

export interface BenchImage {
  dir: string;
  layers: number;
  /** Bytes of the layer tars (what ends up unpacked, plus tar headers). */
  unpacked: number;
  /** Bytes of the gzip blobs (what is downloaded). */
  compressed: number;
}

/** The OCI layout of the bench image under `work`, built on first use. */
export function benchImage(work: string): BenchImage {
  const dir = join(work, `pull-image-v${GENERATOR}`);
  const info = join(dir, "bench.json");
  if (existsSync(info)) return { dir, ...(JSON.parse(readFileSync(info, "utf8")) as Omit<BenchImage, "dir">) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.error(`bench: building the test image in ${dir} (once)…`);
  const c = new Content(20240601);
  const tars = [baseLayer, runtimeLayer, bigLayer, depsLayer, appLayer, configLayer].map((layer) => makeTar(layer(c)));
  const layout = new OciLayout(dir);
  const manifest = layout.image({ layers: tars.map((tar) => ({ tar })), config: { Cmd: ["/usr/bin/tool0"] } });
  layout.tag(manifest, TAG);
  const m = JSON.parse(readFileSync(join(dir, "blobs/sha256", manifest.digest.slice(7)), "utf8")) as { layers: { size: number }[] };
  const result = { layers: tars.length, unpacked: tars.reduce((s, t) => s + t.length, 0), compressed: m.layers.reduce((s, l) => s + l.size, 0) };
  writeFileSync(info, JSON.stringify(result));
  return { dir, ...result };
}
