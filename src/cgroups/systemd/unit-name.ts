// runc's reading of linux.cgroupsPath under --systemd-cgroup: "slice:prefix:name", the
// container's cgroup being the transient scope "prefix-name.scope" in that slice.
import { CgroupError } from "../types";

export const DEFAULT_SLICE = "system.slice";

export interface ScopeName {
  /** The slice the scope goes in, e.g. "system.slice". */
  slice: string;
  /** The scope's unit name, e.g. "mycr-<id>.scope". */
  unit: string;
}

const UNIT_CHARS = /^[a-zA-Z0-9:_.\\-]+$/;

/**
 * "system.slice:mycr:abc" -> system.slice, mycr-abc.scope. An empty cgroupsPath gives
 * system.slice and mycr-<id>.scope; an empty slice, system.slice; an empty prefix, "name.scope".
 */
export function scopeName(id: string, cgroupsPath: string | undefined, defaultPrefix = "mycr"): ScopeName {
  if (!cgroupsPath) return { slice: DEFAULT_SLICE, unit: `${defaultPrefix}-${id}.scope` };
  const parts = cgroupsPath.split(":");
  if (parts.length !== 3) {
    throw new CgroupError(`linux.cgroupsPath "${cgroupsPath}": with the systemd cgroup manager it must be "slice:prefix:name" (e.g. system.slice:mycr:${id})`);
  }
  const [slice, prefix, name] = parts as [string, string, string];
  if (slice && !slice.endsWith(".slice")) throw new CgroupError(`linux.cgroupsPath "${cgroupsPath}": "${slice}" is not a slice (name.slice)`);
  if (!name) throw new CgroupError(`linux.cgroupsPath "${cgroupsPath}": the name part is empty`);
  if (name.endsWith(".slice")) {
    throw new CgroupError(`linux.cgroupsPath "${cgroupsPath}": a slice as the container's own unit is not supported; give a scope name`);
  }
  const unit = prefix ? `${prefix}-${name}.scope` : `${name}.scope`;
  for (const n of [slice, unit]) {
    if (n && (!UNIT_CHARS.test(n) || n.length > 255)) throw new CgroupError(`linux.cgroupsPath "${cgroupsPath}": "${n}" is not a valid unit name`);
  }
  expandSlice(slice || DEFAULT_SLICE, cgroupsPath); // validates its dashes
  return { slice: slice || DEFAULT_SLICE, unit };
}

/**
 * Where systemd puts a slice in the tree: each dash is a level, "a-b.slice" is
 * /a.slice/a-b.slice; "-.slice" is the root.
 */
export function expandSlice(slice: string, context = slice): string {
  if (slice === "-.slice") return "/";
  const base = slice.slice(0, -".slice".length);
  if (base === "" || base.startsWith("-") || base.endsWith("-") || base.includes("--") || base.includes("/")) {
    throw new CgroupError(`linux.cgroupsPath "${context}": "${slice}" is not a valid slice name`);
  }
  let path = "";
  let prefix = "";
  for (const part of base.split("-")) {
    prefix = prefix ? `${prefix}-${part}` : part;
    path += `/${prefix}.slice`;
  }
  return path;
}

/** Looks like "slice:prefix:name" (two colons): how gc recognises a systemd claim. */
export function isSystemdPath(cgroupsPath: string | undefined): boolean {
  return cgroupsPath !== undefined && cgroupsPath.split(":").length === 3;
}
