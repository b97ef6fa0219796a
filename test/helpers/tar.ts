// Writes tar archives for test layers, including ones no honest tool would write.
import { readFileSync } from "node:fs";

export interface TarSpec {
  path: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  data?: Uint8Array | string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  major?: number;
  minor?: number;
  xattrs?: Record<string, string>;
  /** Long names as GNU 'L'/'K' entries instead of pax. */
  gnu?: boolean;
}

const FLAGS = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" } as const;

function header(name: string, flag: string, opts: { mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; major: number; minor: number }): Uint8Array {
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, s: string) => h.write(s.slice(0, len), off, "utf8");
  const oct = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  put(0, 100, name);
  oct(100, 8, opts.mode);
  oct(108, 8, opts.uid);
  oct(116, 8, opts.gid);
  oct(124, 12, opts.size);
  oct(136, 12, opts.mtime);
  h.write("        ", 148);
  h.write(flag, 156);
  put(157, 100, opts.linkname);
  h.write("ustar\0", 257);
  h.write("00", 263);
  oct(329, 8, opts.major);
  oct(337, 8, opts.minor);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

function pad(data: Uint8Array): Uint8Array[] {
  const rest = (512 - (data.length % 512)) % 512;
  return [data, new Uint8Array(rest)];
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

export function makeTar(entries: TarSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? (e.data !== undefined ? "file" : "dir");
    const data = typeof e.data === "string" ? new TextEncoder().encode(e.data) : (e.data ?? new Uint8Array(0));
    const linkname = e.linkname ?? "";
    const base = { mode: e.mode ?? (type === "dir" ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? 1700000000, major: e.major ?? 0, minor: e.minor ?? 0 };
    const pax: string[] = [];
    let name = e.path;
    let link = linkname;
    if (e.gnu) {
      if (name.length > 100) {
        const n = new TextEncoder().encode(name + "\0");
        parts.push(header("././@LongLink", "L", { ...base, size: n.length, linkname: "" }), ...pad(n));
        name = name.slice(0, 100);
      }
      if (link.length > 100) {
        const n = new TextEncoder().encode(link + "\0");
        parts.push(header("././@LongLink", "K", { ...base, size: n.length, linkname: "" }), ...pad(n));
        link = link.slice(0, 100);
      }
    } else {
      if (name.length > 100) {
        pax.push(paxRecord("path", name));
        name = name.slice(0, 100);
      }
      if (link.length > 100) {
        pax.push(paxRecord("linkpath", link));
        link = link.slice(0, 100);
      }
    }
    for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (pax.length > 0) {
      const p = new TextEncoder().encode(pax.join(""));
      parts.push(header("PaxHeader", "x", { ...base, size: p.length, linkname: "" }), ...pad(p));
    }
    parts.push(header(name, FLAGS[type], { ...base, size: type === "file" ? data.length : 0, linkname: link }));
    if (type === "file") parts.push(...pad(data));
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

/** A layer with /bin/busybox, its applets as symlinks, /etc/passwd and /etc/group. */
export function busyboxLayerEntries(): TarSpec[] {
  const bin = ["/bin/busybox", "/usr/bin/busybox"].find((p) => Bun.file(p).size > 0)!;
  const applets = Bun.spawnSync([bin, "--list"]).stdout.toString().trim().split("\n").filter((a) => a && a !== "busybox");
  return [
    { path: "bin/", type: "dir" },
    { path: "bin/busybox", data: readFileSync(bin), mode: 0o755 },
    ...applets.map((a): TarSpec => ({ path: `bin/${a}`, type: "symlink", linkname: "busybox", mode: 0o777 })),
    { path: "etc/", type: "dir" },
    { path: "etc/passwd", data: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n" },
    { path: "etc/group", data: "root:x:0:\napp:x:1000:\n" },
    { path: "tmp/", type: "dir", mode: 0o1777 },
    { path: "root/", type: "dir", mode: 0o700 },
  ];
}
