// What of mycr's own stores a container could see through a host directory it is
// given (the --rootfs lower layer, a -v source), and where inside the container.
//
// MYCR_STATE holds every container's state.json (its spec, with its -e values) and
// MYCR_ROOT its engine and monitor records: one container must never read another's.
// A path string says nothing about what a directory is ("/", "//", "/.", a symlink to
// /, a bind mount of /), so directories are compared by identity (st_dev + st_ino),
// walking up from the store's real path until an ancestor is the given directory.
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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
