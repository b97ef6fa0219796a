// `mycr commit CONTAINER [IMAGE]`: a container's changes (its overlay upper dir) as a new
// layer on the image it runs, with the config changed by --change and a history entry.
// A running container is frozen while its upper dir is read (docker's default), so
// the layer is one moment of it; --pause=false reads it live.
import { existsSync } from "node:fs";
import { openCgroup } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import type { StateStore } from "../runtime/state";
import { applyChange, type ConfigBody } from "../image/changes";
import { makeChildImage, parentOf } from "../image/child-image";
import { imageName } from "../image/commit";
import { findImage, holdLayers } from "../image/images";
import { hex } from "../image/store";
import { writeUpperTar } from "../image/upper-tar";
import { defaultSpec } from "../spec/defaults";
import { findContainer, type ContainerView } from "./containers";
import { imageStore } from "./image";
import { parseTmpfs, parseVolume } from "./mounts";
import { containerDir } from "./paths";
import { rootfsPaths } from "./rootfs";
import { toContainerIds } from "./userns-auto";
import { rangeOfContainer } from "./userns-ranges";

export interface CommitOptions {
  /** IMAGE: the name to give it; none: untagged. */
  name?: string;
  changes: string[];
  message?: string;
  author?: string;
  /** Freeze a running container while its files are read (default true). */
  pause: boolean;
  onWarning?: (message: string) => void;
}

/** The config body with the parent's values and the --change lines applied (checked before anything is read). */
export function changedBody(parent: ConfigBody | undefined, changes: string[]): ConfigBody {
  const body = structuredClone(parent ?? {});
  for (const c of changes) applyChange(body, c);
  return body;
}

/** Where the runtime mounts things in a container made by `run`: its default mounts, /tmp, and the network's files. */
export const RUN_MOUNT_POINTS = [...defaultSpec().mounts!.map((m) => m.destination), "/tmp", "/etc/hosts", "/etc/resolv.conf"];

/** Everything mounted in the container: the mount points overlayfs may hold that are no change of its own. */
function mountPoints(view: ContainerView): string[] {
  const request = view.detached?.request;
  return [
    ...RUN_MOUNT_POINTS,
    ...(view.runtime?.spec.mounts ?? []).map((m) => m.destination),
    ...(request?.volumes ?? []).flatMap((v) => parseVolume(v).destination),
    ...(request?.tmpfs ?? []).flatMap((t) => parseTmpfs(t).destination),
  ];
}

/** Freezes the container's cgroup if it runs (and was not paused already); returns the thaw. */
function freeze(view: ContainerView): () => void {
  const cgroup = view.state === "running" ? view.runtime?.cgroup : undefined;
  if (cgroup === undefined) return () => {};
  const group = openCgroup(cgroup);
  group.freeze();
  return () => group.thaw();
}

/** Commits the container `ref` means; returns the new image's id. */
export async function commitContainer(states: StateStore, ref: string, opts: CommitOptions): Promise<string> {
  const names = opts.name !== undefined ? [imageName(opts.name, "commit")] : [];
  const view = findContainer(states, ref);
  const imageRef = view.engine?.imageId ?? view.engine?.image;
  if (imageRef === undefined) {
    const what = view.engine ? "the host's root or a --rootfs directory" : "a root filesystem an OCI client gave it";
    throw new ContainerError(`commit ${ref}: the container runs on ${what}, not on an image: there is nothing to commit its changes onto`);
  }
  // --userns=auto: the upper holds the block's host ids and overlayfs's user.overlay.* markers; the layer gets the ids the container saw
  const range = rangeOfContainer(view.id);
  const upperOptions = range ? { xattrPrefix: "user.overlay.", ownerId: toContainerIds(range) } : {};
  const upper = rootfsPaths(containerDir(view.id)).upper;
  if (!existsSync(upper)) {
    throw new ContainerError(`commit ${ref}: the container is ${view.state} and its files are gone (run it with --keep to commit it after it exits)`);
  }
  const store = imageStore();
  const image = findImage(store, imageRef);
  if (!image) throw new ContainerError(`commit ${ref}: its image ${imageRef.startsWith("sha256:") ? hex(imageRef).slice(0, 12) : imageRef} is no longer in the store`);
  const unhold = await holdLayers(store, image);
  try {
    const parent = parentOf(store, image);
    const body = changedBody(parent.config.config, opts.changes);
    const child = await makeChildImage(store, {
      parent,
      body,
      history: {
        created_by: view.command.join(" "),
        ...(opts.author !== undefined ? { author: opts.author } : {}),
        ...(opts.message !== undefined ? { comment: opts.message } : {}),
      },
      names,
      writeLayer: async (tar) => {
        const thaw = opts.pause ? freeze(view) : () => {};
        try {
          const stats = await writeUpperTar(upper, tar, mountPoints(view), upperOptions);
          for (const path of stats.skipped) opts.onWarning?.(`commit ${ref}: left out /${path} (a socket, or a name a layer cannot carry)`);
        } finally {
          thaw();
        }
      },
    });
    return child.record.config;
  } finally {
    unhold();
  }
}
