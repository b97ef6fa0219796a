// Sizes of a `mycr run` container's memory-backed filesystems. A tmpfs without a size may
// grow to half of the host's RAM: one container could take the host's memory with
// `dd of=/tmp/x` (without --memory nothing charges it), so none is left unbounded unless
// the user asks for it (`size=0`).
import { ContainerError } from "../runtime/errors";
import type { Mount } from "../spec/types";
import { parseSize } from "./units";

/** /tmp and a --tmpfs without size=: docker's /dev/shm default, small enough for many containers. */
export const DEFAULT_TMPFS_SIZE = 64 * 1024 * 1024;

/**
 * 64 MiB, or half of --memory when that is smaller (the kernel's own default is half of
 * RAM): a tmpfs's pages count against the container's memory, so a /tmp as large as the
 * limit would end in an OOM kill; half leaves room for the programs and fails with ENOSPC.
 */
export function defaultTmpfsSize(memoryLimit: number | undefined): number {
  if (memoryLimit === undefined || memoryLimit <= 0) return DEFAULT_TMPFS_SIZE;
  return Math.min(DEFAULT_TMPFS_SIZE, Math.floor(memoryLimit / 2));
}

function hasSize(m: Mount): boolean {
  return (m.options ?? []).some((o) => o.startsWith("size=") || o.startsWith("nr_blocks="));
}

/** Gives every tmpfs mount that names no size (size= or nr_blocks=) `bytes`. */
export function boundTmpfs(mounts: Mount[], bytes: number): Mount[] {
  return mounts.map((m) => (m.type === "tmpfs" && !hasSize(m) ? { ...m, options: [...(m.options ?? []), `size=${bytes}`] } : m));
}

/** --shm-size: docker's units (b, k, m, g; a bare number is bytes), more than 0. */
export function parseShmSize(text: string): number {
  const bytes = parseSize("--shm-size", text);
  if (bytes <= 0) throw new ContainerError(`--shm-size ${text}: must be more than 0 (docker's default is 64m)`);
  return bytes;
}

/** The /dev/shm mount with `bytes` as its size instead of the default's 64 MiB. */
export function sizeShm(mounts: Mount[], bytes: number): Mount[] {
  return mounts.map((m) =>
    m.destination === "/dev/shm" && m.type === "tmpfs"
      ? { ...m, options: [...(m.options ?? []).filter((o) => !o.startsWith("size=")), `size=${bytes}`] }
      : m,
  );
}
