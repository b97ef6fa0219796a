// OCI mount options -> mount(2) flags, propagation and filesystem data,
// with the meanings mount(8) gives them.
import { MS } from "../../sys";
import type { Mount } from "../../spec/types";

interface FlagEffect {
  set?: number;
  clear?: number;
}

const FLAG_OPTIONS: Record<string, FlagEffect> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  remount: { set: MS.REMOUNT },
  mand: { set: MS.MANDLOCK },
  nomand: { clear: MS.MANDLOCK },
  atime: { clear: MS.NOATIME },
  noatime: { set: MS.NOATIME },
  diratime: { clear: MS.NODIRATIME },
  nodiratime: { set: MS.NODIRATIME },
  bind: { set: MS.BIND },
  rbind: { set: MS.BIND | MS.REC },
  relatime: { set: MS.RELATIME },
  norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  lazytime: { set: MS.LAZYTIME },
  nolazytime: { clear: MS.LAZYTIME },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  symfollow: { clear: MS.NOSYMFOLLOW },
  silent: { set: MS.SILENT },
  loud: { clear: MS.SILENT },
  defaults: {},
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

export interface ParsedMountOptions {
  flags: number;
  propagation: number[];
  data: string;
}

export function parseMountOptions(options: string[] = []): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const option of options) {
    const effect = FLAG_OPTIONS[option];
    if (effect) {
      flags = (flags | (effect.set ?? 0)) & ~(effect.clear ?? 0);
      continue;
    }
    const prop = PROPAGATION_OPTIONS[option];
    if (prop !== undefined) {
      propagation.push(prop);
      continue;
    }
    data.push(option);
  }
  return { flags, propagation, data: data.join(",") };
}

/** Propagation value for linux.rootfsPropagation, or null for a value the spec does not know. */
export function propagationFlags(name: string): number | null {
  return PROPAGATION_OPTIONS[name] ?? null;
}

/** The options that are mount flags or propagation (the rest is filesystem data): what `mycr features` lists. */
export const MOUNT_OPTIONS = [...Object.keys(FLAG_OPTIONS), ...Object.keys(PROPAGATION_OPTIONS)];

export function isBindMount(m: Mount): boolean {
  return m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
}

/**
 * The first option of a bind mount that is filesystem data: the kernel ignores data
 * on a bind mount, so it could only be dropped silently.
 */
export function unknownBindOptions(options: string[] = []): { index: number; option: string } | null {
  const index = options.findIndex((o) => FLAG_OPTIONS[o] === undefined && PROPAGATION_OPTIONS[o] === undefined);
  return index < 0 ? null : { index, option: options[index]! };
}
