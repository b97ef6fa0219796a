// A container's root filesystem: an overlay of read-only lower directories (an image,
// --rootfs, or the host's own root) and the container's private upper dir.
// The overlay is mounted by init inside the container's mount namespace (a spec mount
// at "/"), so it vanishes with the container and is never visible on the host.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Mount } from "../spec/types";
import { ContainerError } from "../runtime/errors";
import { kernelRelease, releaseAtLeast } from "../sys/kernel";
import { escapeOverlayPath } from "./overlay-lowers";
import { releaseContainerDisk } from "./disk-quota";
import { unmountFuseRoot } from "./rootless/storage-driver";
import { remappedBase, rootfsBase, unmountIdmappedLowers } from "./userns-auto";
import { releaseRange } from "./userns-ranges";

export interface ContainerRootfs {
  /** The empty directory that becomes the root (spec root.path). */
  merged: string;
  upper: string;
  work: string;
}

export function rootfsPaths(dir: string): ContainerRootfs {
  const base = rootfsBase(dir);
  return { merged: join(base, "merged"), upper: join(base, "upper"), work: join(base, "work") };
}

export function createRootfsDirs(dir: string): ContainerRootfs {
  const paths = rootfsPaths(dir);
  for (const d of [paths.merged, paths.upper, paths.work]) mkdirSync(d, { recursive: true, mode: 0o755 });
  return paths;
}

/** OVL_MAX_STACK in the kernel's fs/overlayfs. */
const OVERLAY_MAX_LOWERS = 500;

export interface OverlayRootOptions {
  /** Mounted inside a user namespace (--userns=auto). */
  inUserNamespace?: boolean;
  /** The upper dir is removed when the container exits (no --keep): nothing of it must outlive a crash. */
  discardedAtExit?: boolean;
}

/** The spec mount that puts the overlay on the root (see docs/spec-extensions.md). */
export function overlayRootMount(paths: ContainerRootfs, lowers: string[], opts: OverlayRootOptions = {}): Mount {
  // Past one page of options init hands overlayfs the layers one by one (runtime/rootfs/overlay.ts);
  // overlayfs itself stacks at most 500 lower layers.
  if (lowers.length > OVERLAY_MAX_LOWERS) {
    throw new ContainerError(`the image has ${lowers.length} layers; overlayfs stacks at most ${OVERLAY_MAX_LOWERS}`);
  }
  return {
    destination: "/",
    type: "overlay",
    source: "overlay",
    options: [
      `lowerdir=${lowers.map(escapeOverlayPath).join(":")}`,
      `upperdir=${escapeOverlayPath(paths.upper)}`,
      `workdir=${escapeOverlayPath(paths.work)}`,
      // Mounted inside a user namespace, overlayfs may not write its trusted.* xattrs
      // (whiteouts, opaque dirs): user.overlay.* instead (Linux 5.11).
      ...(opts.inUserNamespace ? ["userxattr"] : []),
      // overlayfs syncs its upper dir's whole file system when it is unmounted, which for
      // a container's root is at its exit: a sync of /var/lib's file system, everyone's
      // dirty data, before the exit is reported (~2.5 ms here; far more on a busy host).
      // An upper dir the container's end removes needs none of it (podman mounts its --rm
      // containers so). Linux 5.10.
      ...(opts.discardedAtExit && releaseAtLeast(kernelRelease(), "5.10") ? ["volatile"] : []),
    ],
  };
}

/** Removes the container's files (all of them, or all but the upper dir). */
export function removeContainerFiles(dir: string, keepUpper = false): void {
  try {
    releaseContainerDisk(rootfsPaths(dir)); // a --storage-opt size limit goes with the container, kept files or not
  } finally {
    // The idmapped layers are the image's own files, a fuse-overlayfs root shows them:
    // detached before anything is removed.
    unmountFuseRoot(rootfsPaths(dir).merged);
    unmountIdmappedLowers(dir);
    if (keepUpper) rmSync(rootfsPaths(dir).work, { recursive: true, force: true });
    else for (const d of [remappedBase(dir), dir]) rmSync(d, { recursive: true, force: true });
    releaseRange(dir); // --userns=auto: the id block goes with the container
  }
}

/** A detached container's root goes when it exits; its directory (record, logs) stays until rm. */
export function removeRootfsDirs(dir: string, keepUpper = false): void {
  const paths = rootfsPaths(dir);
  try {
    releaseContainerDisk(paths);
  } finally {
    unmountFuseRoot(paths.merged);
    unmountIdmappedLowers(dir);
    for (const d of keepUpper ? [paths.merged, paths.work] : [paths.merged, paths.work, paths.upper]) rmSync(d, { recursive: true, force: true });
  }
}
