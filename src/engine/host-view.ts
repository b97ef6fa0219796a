// What of mycr's own stores a container could see through a host directory it is
// given (the --rootfs lower layer, a -v source), and where inside the container.
//
// MYCR_STATE holds every container's state.json (its spec, with its -e values) and
// MYCR_ROOT its engine and monitor records: one container must never read another's.
// A path string says nothing about what a directory is ("/", "//", "/.", a symlink to
// /, a bind mount of /), so directories are compared by identity (st_dev + st_ino),
// walking up from the store's real path until an ancestor is the given directory.
// Also the checks of a --rootfs against them, which `run -d`'s client makes before it
// hands the container over (without loading the start's code).
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ContainerError } from "../runtime/errors";
import { stateRoot } from "../runtime/paths";
import type { StateStore } from "../runtime/state";
import { dataRoot } from "./paths";

interface FileId {
  dev: bigint;
  ino: bigint;
}

function fileId(path: string): FileId | null {
  try {
    const st = statSync(path, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** The real path of `path`; for a path not (yet) there, its nearest existing ancestor's plus the rest. */
function realPath(path: string): string {
  const rest: string[] = [];
  let cur = path;
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      if (dirname(cur) === cur) return path;
      rest.push(basename(cur));
      cur = dirname(cur);
    }
  }
}

/**
 * Where `inner` is inside directory `outer`, as an absolute path relative to `outer`
 * ("/" when they are the same directory), or null when `outer` does not contain it.
 */
export function placeWithin(outer: string, inner: string): string | null {
  const target = fileId(outer);
  if (!target) return null;
  const names: string[] = [];
  let cur = realPath(inner);
  for (;;) {
    const id = fileId(cur);
    if (id && id.dev === target.dev && id.ino === target.ino) return join("/", ...names.reverse());
    if (dirname(cur) === cur) return null;
    names.push(basename(cur));
    cur = dirname(cur);
  }
}

/** True when `dir` is the host's root directory itself, however it is spelled or reached. */
export function isHostRoot(dir: string): boolean {
  return placeWithin(dir, "/") === "/";
}

/** A host directory seen in the container at `at` ("/" for the root's lower layer). */
export interface Window {
  hostDir: string;
  at: string;
}

/** The container paths that would show one of `stores`: to be masked (linux.maskedPaths). */
export function exposedStores(windows: Window[], stores: string[]): string[] {
  const out = new Set<string>();
  for (const w of windows) {
    for (const store of stores) {
      const place = placeWithin(w.hostDir, store);
      if (place !== null) out.add(join(w.at, place));
    }
  }
  return [...out];
}

/** The store that contains `dir` (or is it), when there is one: such a directory would show other containers' records. */
export function storeHolding(dir: string, stores: string[]): string | undefined {
  return stores.find((store) => placeWithin(store, dir) !== null);
}

/** MYCR_ROOT and MYCR_STATE: what no container may see of another's. */
export function mycrStores(store?: StateStore): string[] {
  return [dataRoot(), store?.root ?? stateRoot()];
}

/** --rootfs DIR: an existing directory, not empty text (which once meant the host's root). */
export function checkRootfsDir(path: string, stores: string[], cwd = process.cwd()): string {
  if (path === "") throw new ContainerError("--rootfs: empty; give a directory (leave the flag out to use the host's root)");
  const abs = resolve(cwd, path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new ContainerError(`--rootfs ${path}: no such directory`);
  }
  if (!isDir) throw new ContainerError(`--rootfs ${path}: not a directory`);
  const store = storeHolding(abs, stores);
  if (store !== undefined) {
    throw new ContainerError(`--rootfs ${path}: inside mycr's own store ${store}, which holds other containers' records; use a directory outside it`);
  }
  return abs;
}
