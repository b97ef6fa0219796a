// An image's filesystem as a listing: the layers of a docker-archive (what `mycr save` and
// `podman save` write) applied in order, whiteouts and opaque directories honoured, each
// path with its type, owner, mode, size and link target (times left out: they differ
// between any two builds). Two images with the same files give equal listings.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readTar } from "../../src/image/tar";

export interface FileInfo {
  type: string;
  mode: string;
  owner: string;
  size: number;
  link?: string;
  xattrs?: string;
}

export interface SavedImage {
  config: { config?: Record<string, unknown>; history?: Record<string, unknown>[]; author?: string; rootfs: { diff_ids: string[] } };
  files: Map<string, FileInfo>;
  /** Each layer's entry names, in order. */
  layers: string[][];
}

function clean(path: string): string {
  return `/${path.split("/").filter((p) => p !== "" && p !== ".").join("/")}`;
}

async function entries(data: Uint8Array): Promise<{ path: string; info: FileInfo; hardlink?: string }[]> {
  const out = [];
  async function* one() {
    yield data;
  }
  for await (const { entry } of readTar(one())) {
    const xattrs = [...entry.xattrs].map(([k, v]) => `${k}=${Buffer.from(v).toString()}`).sort().join(",");
    out.push({
      path: clean(entry.path),
      info: {
        type: entry.type === "hardlink" ? "file" : entry.type,
        mode: entry.mode.toString(8),
        owner: `${entry.uid}:${entry.gid}`,
        size: entry.size,
        ...(entry.type === "symlink" ? { link: entry.linkname } : {}),
        ...(xattrs ? { xattrs } : {}),
      },
      ...(entry.type === "hardlink" ? { hardlink: clean(entry.linkname) } : {}),
    });
  }
  return out;
}

/** The image in a docker-archive file (the first image it holds). */
export async function readSavedImage(archive: string): Promise<SavedImage> {
  const dir = mkdtempSync("/tmp/mycr-test-image-");
  try {
    const untar = Bun.spawnSync(["tar", "-C", dir, "-xf", archive]);
    if (untar.exitCode !== 0) throw new Error(`tar -xf ${archive}: ${untar.stderr}`);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))[0] as { Config: string; Layers: string[] };
    const config = JSON.parse(readFileSync(join(dir, manifest.Config), "utf8")) as SavedImage["config"];
    const files = new Map<string, FileInfo>();
    const layers: string[][] = [];
    for (const layer of manifest.Layers) {
      const raw = readFileSync(join(dir, layer));
      const list = await entries(raw[0] === 0x1f ? Bun.gunzipSync(raw) : raw);
      layers.push(list.map((e) => e.path));
      const drop = (prefix: string, self: boolean) => {
        for (const p of [...files.keys()]) if ((self && p === prefix) || p.startsWith(`${prefix}/`)) files.delete(p);
      };
      const fresh = new Set<string>();
      for (const e of list) {
        const base = e.path.slice(e.path.lastIndexOf("/") + 1);
        const parent = e.path.slice(0, e.path.lastIndexOf("/")) || "/";
        if (base === ".wh..wh..opq") {
          for (const p of [...files.keys()]) if (p.startsWith(parent === "/" ? "/" : `${parent}/`) && !fresh.has(p)) files.delete(p);
          continue;
        }
        if (base.startsWith(".wh.")) {
          drop(`${parent === "/" ? "" : parent}/${base.slice(4)}`, true);
          continue;
        }
        if (e.info.type !== "dir") drop(e.path, false);
        const info = e.hardlink !== undefined ? { ...files.get(e.hardlink)! } : e.info;
        files.set(e.path, info);
        fresh.add(e.path);
      }
    }
    files.delete("/");
    return { config, files, layers };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The listing as sorted lines, for a readable diff when two images differ. */
export function listing(files: Map<string, FileInfo>, under = "/"): string[] {
  return [...files]
    .filter(([p]) => p === under || p.startsWith(under === "/" ? "/" : `${under}/`))
    .map(([p, f]) => `${p} ${f.type} ${f.mode} ${f.owner} ${f.type === "file" ? f.size : ""}${f.link ? ` -> ${f.link}` : ""}${f.xattrs ? ` ${f.xattrs}` : ""}`)
    .sort();
}
