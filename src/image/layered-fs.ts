// An image's files as overlayfs shows them, read straight from its unpacked layers
// without mounting anything: the topmost layer holding a name wins, a 0:0 character
// device (whiteout) hides the name below, an opaque directory hides everything below it.
// What `build` needs: the metadata of the directories a COPY writes into (so the new
// layer keeps them as they were), the real place a path leads to (symlinks resolved
// inside the image, never on the host), and the files of another stage for COPY --from.
//
// The layers' content was written by image authors: every lookup goes one component at a
// time with lstat, only below components already found to be real directories in that
// layer, and files are opened with O_NOFOLLOW. The layers are read-only to containers.
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { lgetxattr } from "../sys";

const MAX_LINKS = 40;

export interface Found {
  /** Absolute path in the image after symlinks (the last one kept when not followed). */
  path: string;
  /** The entry's metadata, from the layer that shows it. */
  stat: Stats;
  /** Host path of the entry inside that layer (a real path: no symlink on the way). */
  host: string;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(host: string): boolean {
  return lgetxattr(host, "trusted.overlay.opaque")?.toString() === "y";
}

function clean(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return out;
}

export class LayeredFs {
  /** `layers`: the layers' diff directories, top first. */
  constructor(private readonly layers: string[]) {}

  /**
   * The entry at `path` (absolute, in the image), symlinks resolved inside the image
   * (the last component's too unless `followLast` is false); null when there is none.
   */
  lookup(path: string, followLast = true): Found | null {
    let todo = clean(path.split("/"));
    let done: string[] = [];
    /** Layers (indices) in which `done` is a real directory, top first, cut at the first opaque one. */
    let dirs = this.layers.map((_, i) => i);
    let links = 0;
    while (todo.length > 0) {
      const name = todo.shift()!;
      const hit = this.entryIn(dirs, done, name);
      if (hit === null) return null;
      const { st, host, below } = hit;
      const last = todo.length === 0;
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) throw new ContainerError(`/${[...done, name].join("/")}: too many levels of symbolic links`);
        const target = readlinkSync(host);
        todo = [...clean([...(target.startsWith("/") ? [] : done), ...target.split("/")]), ...todo];
        done = [];
        dirs = this.layers.map((_, i) => i);
        if (todo.length === 0) return this.root();
        continue;
      }
      done = [...done, name];
      if (last) return { path: `/${done.join("/")}`, stat: st, host };
      if (!st.isDirectory()) return null; // a file in the middle of the path
      dirs = below;
    }
    return this.root();
  }

  /** The root: the top layer's directory stands for it (none in an image without layers). */
  private root(): Found | null {
    const top = this.layers[0];
    return top === undefined ? null : { path: "/", stat: lstatSync(top), host: top };
  }

  /** The topmost entry `name` in directory `dir` among `dirs`, and the layers in which it continues as a directory. */
  private entryIn(dirs: number[], dir: string[], name: string): { st: Stats; host: string; below: number[] } | null {
    for (let k = 0; k < dirs.length; k++) {
      const host = join(this.layers[dirs[k]!]!, ...dir, name);
      let st: Stats;
      try {
        st = lstatSync(host);
      } catch {
        continue;
      }
      if (isWhiteout(st)) return null;
      if (!st.isDirectory()) return { st, host, below: [] };
      // The directory goes on in lower layers where they have a directory too, until an opaque one.
      const below: number[] = [dirs[k]!];
      if (!isOpaque(host)) {
        for (const j of dirs.slice(k + 1)) {
          const lower = join(this.layers[j]!, ...dir, name);
          let ls: Stats;
          try {
            ls = lstatSync(lower);
          } catch {
            continue;
          }
          if (!ls.isDirectory()) break; // a file or whiteout there hides everything below
          below.push(j);
          if (isOpaque(lower)) break;
        }
      }
      return { st, host, below };
    }
    return null;
  }

  /** The names in the directory at `path` (already looked up, a directory), whiteouts applied. */
  children(path: string): string[] {
    const parts = clean(path.split("/"));
    const names = new Set<string>();
    const hidden = new Set<string>();
    let dirs = this.layers.map((_, i) => i);
    for (let depth = 0; depth < parts.length; depth++) {
      const hit = this.entryIn(dirs, parts.slice(0, depth), parts[depth]!);
      if (hit === null || !hit.st.isDirectory()) return [];
      dirs = hit.below;
    }
    for (const i of dirs) {
      const host = join(this.layers[i]!, ...parts);
      for (const n of readdirSync(host)) {
        if (names.has(n) || hidden.has(n)) continue;
        const st = lstatSync(join(host, n));
        if (isWhiteout(st)) hidden.add(n);
        else names.add(n);
      }
    }
    return [...names].sort();
  }
}

