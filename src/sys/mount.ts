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
