// `mycr run --image`: the image found or pulled (--pull), its layers held for the
// container's life, and its config's defaults merged with the flags the way docker does.
import { ContainerError } from "../runtime/errors";
import { findImage, holdLayers, imageConfig, lowerDirs, pruneStore } from "../image/images";
import { parsePlatform } from "../image/platform";
import type { PullProgress } from "../image/progress";
import { ImageStore } from "../image/store";
import type { ImageConfig } from "../image/types";
import { dataRoot } from "./paths";

export type PullPolicy = "always" | "missing" | "never";

export interface ImageRequest {
  ref: string;
  pull?: PullPolicy;
  platform?: string;
  tlsVerify?: boolean;
  say?: (message: string) => void;
  progress?: PullProgress;
}

export interface PreparedImage {
  name: string;
  /** The image id (its config's digest): what `commit` builds on, whatever the name means later. */
  id: string;
  /** Overlay lower dirs, top layer first. */
  lowers: string[];
  config: ImageConfig;
  /** Lets go of the layers (rmi may remove them again). */
  release: () => Promise<void>;
}

export function imageStore(): ImageStore {
  return new ImageStore(dataRoot());
}

/**
 * The registry client (HTTP, layer unpacking, its Worker pool, node:stream/web) is loaded
 * only when an image must be pulled: a run of an image already here does not pay for it.
 */
async function pull(...args: Parameters<typeof import("../image/pull").pullImage>) {
  const { pullImage } = await import("../image/pull");
  return pullImage(...args);
}

export async function prepareImage(req: ImageRequest): Promise<PreparedImage> {
  const store = imageStore();
  const policy = req.pull ?? "missing";
  const platform = req.platform !== undefined ? parsePlatform(req.platform) : undefined;
  let image = policy === "always" ? undefined : findImage(store, req.ref);
  if (!image) {
    if (policy === "never") throw new ContainerError(`image ${req.ref} is not present (--pull never)`);
    image = await pull(store, req.ref, { platform, tlsVerify: req.tlsVerify, say: req.say, progress: req.progress });
  }
  const unhold = await holdLayers(store, image);
  const chosen = image;
  const release = async () => {
    unhold();
    // `rmi -f` took the name while we ran: its layers go now that nobody uses them.
    const referenced = new Set(store.images().flatMap((i) => i.layers));
    if (chosen.layers.some((l) => !referenced.has(l))) await pruneStore(store, false);
  };
  return { name: image.name, id: image.config, lowers: lowerDirs(store, image), config: imageConfig(store, image), release };
}

/**
 * `run -d`: the container's monitor runs without a terminal or our stderr, so a missing
 * image is pulled here, where the user sees it; the monitor then finds it in the store
 * (docker pulls once at create time too, not at every restart). Returns what the record
 * shows: the image's name and the command its config and the flags make.
 */
export async function pullForDetached(req: ImageRequest, given: { args: string[]; entrypoint?: string }): Promise<{ request: ImageRequest; name: string; command: string[] }> {
  const store = imageStore();
  const policy = req.pull ?? "missing";
  let image = policy === "always" ? undefined : findImage(store, req.ref);
  if (!image) {
    if (policy === "never") throw new ContainerError(`image ${req.ref} is not present (--pull never)`);
    const platform = req.platform !== undefined ? parsePlatform(req.platform) : undefined;
    image = await pull(store, req.ref, { platform, tlsVerify: req.tlsVerify, say: req.say, progress: req.progress });
  }
  const command = commandFromImage(imageConfig(store, image), given).args;
  return { request: { ...req, ref: image.name, pull: "missing" }, name: image.name, command };
}

export interface CommandDefaults {
  args: string[];
  env: string[];
  cwd?: string;
  user?: string;
  stopSignal?: string;
}

/**
 * docker's rules: --entrypoint replaces the image's Entrypoint and drops its Cmd; words
 * given after the flags replace Cmd. -e, -w and -u win over Env, WorkingDir and User.
 */
export function commandFromImage(config: ImageConfig, given: { args: string[]; entrypoint?: string }): CommandDefaults {
  const c = config.config ?? {};
  const entrypoint = given.entrypoint !== undefined ? [given.entrypoint] : (c.Entrypoint ?? []);
  const cmd = given.args.length > 0 ? given.args : given.entrypoint !== undefined ? [] : (c.Cmd ?? []);
  return {
    args: [...entrypoint, ...cmd],
    env: c.Env ?? [],
    ...(c.WorkingDir ? { cwd: c.WorkingDir } : {}),
    ...(c.User ? { user: c.User } : {}),
    ...(c.StopSignal ? { stopSignal: c.StopSignal } : {}),
  };
}
