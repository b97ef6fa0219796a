import { readFileSync } from "node:fs";
import { MNT_DETACH, MS } from "./constants";
import { libc, check, cstr } from "./libc";

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  const r = libc.mount(
    source === null ? null : cstr(source),
    cstr(target),
    fstype === null ? null : cstr(fstype),
    flags,
    data === null ? null : cstr(data),
  );
  check(r, "mount", `${fstype ?? source ?? "none"}, ${target}${data ? `, ${data}` : ""}`);
}

export function umount(target: string, flags = 0): void {
  check(libc.umount2(cstr(target), flags), "umount2", target);
}

export function detach(target: string): void {
  umount(target, MNT_DETACH);
}

export function bind(source: string, target: string, recursive = true): void {
  mount(source, target, null, MS.BIND | (recursive ? MS.REC : 0), null);
}

export function setPropagation(target: string, flags: number): void {
  mount(null, target, null, flags, null);
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points strictly below `dir` in our mount namespace, deepest (latest) first. */
export function mountPointsBelow(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => unescapeMountPath(line.split(" ")[4] ?? ""))
    .filter((p) => p.startsWith(prefix));
  return points.reverse();
}
