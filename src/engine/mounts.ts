// -v/--volume and --tmpfs -> spec mounts.
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ContainerError } from "../runtime/errors";
import type { Mount } from "../spec/types";

function checkDestination(flag: string, text: string, dst: string): string {
  if (!isAbsolute(dst)) throw new ContainerError(`${flag} ${text}: the destination must be an absolute path`);
  const normal = resolve(dst);
  if (normal === "/") throw new ContainerError(`${flag} ${text}: cannot mount over the container's root`);
  return normal;
}

/** `SOURCE:DESTINATION[:ro|rw]`, SOURCE an existing host path (absolute, or ./relative). */
export function parseVolume(text: string, cwd = process.cwd()): Mount {
  const parts = text.split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new ContainerError(`-v ${text}: expected SOURCE:DESTINATION[:ro|rw]`);
  }
  const [src, dst, mode = "rw"] = parts as [string, string, string?];
  if (!isAbsolute(src) && !src.startsWith("./") && !src.startsWith("../") && src !== "." && src !== "..") {
    throw new ContainerError(`-v ${text}: the source must be a path (named volumes are not supported)`);
  }
  const source = resolve(cwd, src);
  if (!existsSync(source)) throw new ContainerError(`-v ${text}: the source ${source} does not exist`);
  if (mode !== "ro" && mode !== "rw") throw new ContainerError(`-v ${text}: unknown option "${mode}" (use ro or rw)`);
  const destination = checkDestination("-v", text, dst);
  // rprivate, as docker: mounts made later on the host do not show up inside.
  return { destination, type: "bind", source, options: ["rbind", "rprivate", mode] };
}

const TMPFS_FLAGS = new Set(["ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "sync", "async", "atime", "noatime", "relatime", "strictatime", "nodiratime"]);
const TMPFS_VALUES: Record<string, RegExp> = {
  size: /^\d+[kmgKMG%]?$/,
  nr_blocks: /^\d+[kmgKMG%]?$/,
  nr_inodes: /^\d+[kmgKMG%]?$/,
  mode: /^[0-7]{3,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
};

/** `DESTINATION[:OPTION,...]`: a fresh tmpfs, nosuid,nodev,noexec unless the options say otherwise. */
export function parseTmpfs(text: string): Mount {
  const colon = text.indexOf(":");
  const dst = colon >= 0 ? text.slice(0, colon) : text;
  const given = colon >= 0 ? text.slice(colon + 1).split(",").filter((o) => o !== "") : [];
  const destination = checkDestination("--tmpfs", text, dst);
  for (const option of given) {
    const eq = option.indexOf("=");
    const ok = eq < 0 ? TMPFS_FLAGS.has(option) : TMPFS_VALUES[option.slice(0, eq)]?.test(option.slice(eq + 1)) === true;
    if (!ok) throw new ContainerError(`--tmpfs ${text}: unknown or malformed option "${option}"`);
  }
  return { destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", ...given] };
}

/**
 * The user's mounts over the defaults: one that lands where a default does replaces it
 * (a --tmpfs /tmp of your own); two of the user's on one place are an error; parents
 * are mounted before what goes inside them.
 */
export function mergeMounts(defaults: Mount[], user: Mount[]): Mount[] {
  const seen = new Set<string>();
  for (const m of user) {
    if (seen.has(m.destination)) throw new ContainerError(`${m.destination} is mounted twice`);
    seen.add(m.destination);
  }
  const depth = (m: Mount) => m.destination.split("/").filter(Boolean).length;
  const sorted = [...user].sort((a, b) => depth(a) - depth(b));
  return [...defaults.filter((m) => !seen.has(m.destination)), ...sorted];
}
