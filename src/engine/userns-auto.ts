// --userns=auto (podman's flag): a root run whose root is not the host's root. The
// container's ids 0..65535 are a private block of host ids (userns-ranges.ts); the
// image's layers are seen through idmapped mounts with that map, so what the image says
// root owns shows as root's inside, and the upper dir is created owned by the block's 0.
// The idmapped lowers are made here, in the host's user namespace (only a process
// privileged over the layers' superblock may idmap them), and attached under the
// container's directory; init stacks its overlay on them (overlayfs takes idmapped
// layers since Linux 5.19). They are detached with the container's root (rootfs.ts).
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { attachMount, close, detach, idmappedTree, openPath, userNamespaceFd } from "../sys";
import type { IdMapping, Spec } from "../spec/types";
import { ContainerError } from "../runtime/errors";
import { writeIdMaps } from "../runtime/idmap";
import type { TarItem } from "../image/tar";
import { RANGE_SIZE, type IdRange } from "./userns-ranges";

/**
 * MYCR_ROOT/remapped/<id>: where a --userns=auto container's root filesystem lives
 * instead of its (root-only) container directory: init mounts the overlay from inside
 * the user namespace, where it must be able to walk the path (userns-auto.ts).
 */
export function remappedBase(dir: string): string {
  return join(dirname(dirname(dir)), "remapped", basename(dir));
}

/** Whether the container whose directory is `dir` runs (or ran) with --userns=auto. */
export function isRemapped(dir: string): boolean {
  return existsSync(remappedBase(dir));
}

/** The directory holding the container's merged, upper and work dirs. */
export function rootfsBase(dir: string): string {
  return isRemapped(dir) ? remappedBase(dir) : dir;
}

/** --userns values: host (the default, no user namespace) or auto. */
export function parseUserns(value: string | undefined): "host" | "auto" {
  if (value === undefined || value === "" || value === "host") return "host";
  if (value === "auto") return "auto";
  throw new ContainerError(`--userns ${value}: mycr supports "host" (the default) and "auto" (a private id range)`);
}

export function rangeMaps(range: IdRange): IdMapping[] {
  return [{ containerID: 0, hostID: range.start, size: RANGE_SIZE }];
}

export function addAutoUserNamespace(spec: Spec, range: IdRange): void {
  const linux = spec.linux!;
  linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== "user"), { type: "user" }];
  linux.uidMappings = rangeMaps(range);
  linux.gidMappings = rangeMaps(range);
}

export function idmappedLowersDir(dir: string): string {
  return join(rootfsBase(dir), "lowers");
}

/** Where each lower is seen remapped: the paths the overlay stacks instead of the layers. */
export function idmappedLowerPaths(dir: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => join(idmappedLowersDir(dir), String(i)));
}

/** Attaches each lower, idmapped with the range's map, at idmappedLowerPaths(dir). */
export function mountIdmappedLowers(dir: string, lowers: string[], range: IdRange): void {
  const maps = rangeMaps(range);
  const userns = userNamespaceFd((pid) => writeIdMaps(pid, maps, maps));
  try {
    mkdirSync(idmappedLowersDir(dir), { mode: 0o711 });
    for (const [i, target] of idmappedLowerPaths(dir, lowers.length).entries()) {
      mkdirSync(target, { mode: 0o700 });
      let tree: number;
      try {
        tree = idmappedTree(lowers[i]!, true, userns);
      } catch (e) {
        throw new ContainerError(`--userns=auto: ${lowers[i]} cannot be seen remapped (an idmapped mount: ${(e as Error).message}); its file system, or one mounted below it, does not support idmapped mounts`);
      }
      try {
        const at = openPath(target);
        try {
          attachMount(tree, at, `${lowers[i]} -> ${target}`);
        } finally {
          close(at);
        }
      } finally {
        close(tree);
      }
    }
  } finally {
    close(userns);
  }
}

/**
 * Init mounts the overlay from inside the container's user namespace, where the host's
 * root is nobody: the container's root must be able to walk to its layers, upper and
 * work dirs. They live in MYCR_ROOT/remapped/<id> (rootfs.ts), not in the container's
 * own directory (root's alone: it holds the record and the logs). MYCR_ROOT and
 * remapped/ are 0711 (searchable, not listable, as podman and docker do for remapped
 * roots); created before the container's paths are computed, so they resolve there.
 */
export function makeRemappedBase(dir: string): void {
  const base = remappedBase(dir);
  for (const d of [dirname(dirname(base)), dirname(base)]) {
    mkdirSync(d, { recursive: true, mode: 0o711 });
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o011) !== 0o011) chmodSync(d, mode | 0o011);
  }
  mkdirSync(base, { recursive: true, mode: 0o711 });
}

/**
 * The upper and work dirs belong to the block's root, so the container's root may write
 * them; remapped/<id> is root's with the block's group and 0710: the container's root may
 * walk through it, other host users may not (the upper holds what the container wrote).
 */
export function chownToRange(dir: string, range: IdRange): void {
  const base = remappedBase(dir);
  chownSync(base, 0, range.start);
  chmodSync(base, 0o710);
  for (const d of ["upper", "work"]) chownSync(join(base, d), range.start, range.start);
}

/** Detaches what mountIdmappedLowers attached (nothing there: nothing to do). */
export function unmountIdmappedLowers(dir: string): void {
  const base = idmappedLowersDir(dir);
  if (!existsSync(base)) return;
  for (const name of readdirSync(base)) {
    const target = join(base, name);
    try {
      detach(target);
    } catch {
      // never mounted (a run that failed before)
    }
    rmdirSync(target);
  }
  rmdirSync(base);
}

/** gc: remapped roots whose container has no directory (a run killed before its record). */
export function removeOrphanRemappedRoots(root: string, graceMs = 10_000): void {
  const parent = join(root, "remapped");
  if (!existsSync(parent)) return;
  for (const id of readdirSync(parent)) {
    const dir = join(root, "containers", id);
    const base = join(parent, id);
    try {
      if (existsSync(dir) || Date.now() - statSync(base).mtimeMs < graceMs) continue;
      unmountIdmappedLowers(dir);
      rmSync(base, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

/** The id the kernel shows for a host id outside the block (overflowuid). */
const OVERFLOW_ID = 65534;

/** Container-side ids for host ones: what the container's processes see. */
export function toContainerIds(range: IdRange): (id: number) => number {
  return (id) => (id >= range.start && id < range.start + RANGE_SIZE ? id - range.start : OVERFLOW_ID);
}

/** Host ids for container-side ones; an id the block has no room for is refused by name. */
export function toHostIds(range: IdRange, what: string): (id: number) => number {
  return (id) => {
    if (id < 0 || id >= RANGE_SIZE) throw new ContainerError(`${what}: owner id ${id} has no id in a --userns=auto container (its ids are 0..${RANGE_SIZE - 1}); copy without -a`);
    return range.start + id;
  };
}

/** Tar items with their owners passed through `shift`. */
export async function* shiftOwners(items: AsyncIterable<TarItem>, shift: (id: number) => number): AsyncGenerator<TarItem> {
  for await (const item of items) yield { ...item, entry: { ...item.entry, uid: shift(item.entry.uid), gid: shift(item.entry.gid) } };
}
