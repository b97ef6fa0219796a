// `mycr run --image`: the image found or pulled (--pull), its layers held for the
// container's life, and its config's defaults merged with the flags the way docker does.
import { ContainerError } from "../runtime/errors";
import { displayName, findImage, holdLayers, imageConfig, lowerDirs } from "../image/images";
import { parsePlatform } from "../image/platform";
import { pullImage } from "../image/pull";
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
}

export interface PreparedImage {
  name: string;
  /** Overlay lower dirs, top layer first. */
  lowers: string[];
  config: ImageConfig;
  /** Lets go of the layers (rmi may remove them again). */
  release: () => void;
}

export function imageStore(): ImageStore {
  return new ImageStore(dataRoot());
}

export async function prepareImage(req: ImageRequest): Promise<PreparedImage> {
  const store = imageStore();
  const policy = req.pull ?? "missing";
  const platform = req.platform !== undefined ? parsePlatform(req.platform) : undefined;
  let image = policy === "always" ? undefined : findImage(store, req.ref);
  if (!image) {
    if (policy === "never") throw new ContainerError(`image ${req.ref} is not present (--pull never)`);
    image = await pullImage(store, req.ref, { platform, tlsVerify: req.tlsVerify, say: req.say });
  }
  const release = await holdLayers(store, image);
  return { name: displayName(image), lowers: lowerDirs(store, image), config: imageConfig(store, image), release };
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
