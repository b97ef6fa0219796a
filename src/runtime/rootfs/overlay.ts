// Overlay mounts whose options do not fit one page (images of ~140 layers or more):
// mount(2) copies at most 4096 bytes of data, so past that the layers go to overlayfs one
// by one through the new mount API's "lowerdir+" (Linux 6.8). Shorter ones take mount(2).
import { MOUNT_ATTR, MS, SysError, mount, mountWithParams, type FsParam } from "../../sys";
import type { ParsedMountOptions } from "./mount-options";

/** mount(2) copies one page of data, the terminating NUL included. */
const MOUNT_DATA_MAX = 4095;

/** engine/rootfs.ts escapes `\`, `:` and `,` in paths for the one-string form; the new API takes them raw. */
function unescape(text: string): string {
  return text.replace(/\\(.)/g, "$1");
}

/** Splits on the `sep` characters that are not escaped with a backslash, keeping the escapes. */
function splitKeepingEscapes(text: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export function overlayParams(data: string): FsParam[] {
  const params: FsParam[] = [];
  for (const option of splitKeepingEscapes(data, ",")) {
    if (option === "") continue;
    const eq = option.indexOf("=");
    if (eq < 0) {
      params.push({ key: option });
      continue;
    }
    const key = option.slice(0, eq);
    const value = option.slice(eq + 1);
    if (key === "lowerdir") for (const dir of splitKeepingEscapes(value, ":")) params.push({ key: "lowerdir+", value: unescape(dir) });
    else params.push({ key, value: unescape(value) });
  }
  return params;
}

function attributes(flags: number): number {
  const pairs: [number, number][] = [
    [MS.RDONLY, MOUNT_ATTR.RDONLY],
    [MS.NOSUID, MOUNT_ATTR.NOSUID],
    [MS.NODEV, MOUNT_ATTR.NODEV],
    [MS.NOEXEC, MOUNT_ATTR.NOEXEC],
    [MS.NOATIME, MOUNT_ATTR.NOATIME],
    [MS.NODIRATIME, MOUNT_ATTR.NODIRATIME],
  ];
  return pairs.reduce((attrs, [ms, attr]) => ((flags & ms) !== 0 ? attrs | attr : attrs), 0);
}

export function mountOverlay(source: string, target: string, opts: ParsedMountOptions): void {
  if (opts.data.length <= MOUNT_DATA_MAX) {
    mount(source, target, "overlay", opts.flags, opts.data || null);
    return;
  }
  const params = overlayParams(opts.data);
  try {
    mountWithParams("overlay", params, attributes(opts.flags), target);
  } catch (e) {
    const unsupported = e instanceof SysError && (e.code === "ENOSYS" || (e.code === "EINVAL" && e.call === "fsconfig" && e.message.includes("lowerdir+")));
    if (!unsupported) throw e;
    const layers = params.filter((p) => p.key === "lowerdir+").length;
    throw new Error(
      `the overlay of ${layers} layers needs ${opts.data.length} bytes of mount options, over mount(2)'s 4096, and this kernel cannot take layers one by one (overlayfs lowerdir+, Linux 6.8): use a shorter MYCR_ROOT or an image with fewer layers`,
    );
  }
}
