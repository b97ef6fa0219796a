// Compiles mycr's C (src/sys/native/*.c) at run time with the TinyCC that Bun embeds
// (bun:ffi's cc), once per process. The source travels inside the binary as text;
// TinyCC reads only real files, so it is handed a memfd through /proc/self/fd.
// The C includes no headers: no libc6-dev (or any compiler) is needed on the host.
// TinyCC still links "-lc", which it finds as libc.so, a file libc6-dev alone
// provides; without it, TinyCC is shown a private directory where libc.so is the C
// library this process already runs on (its symbols are resolved from the process).
import { cc, ptr, type FFIFunction, type Library } from "bun:ffi";
import { closeSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SYS } from "./arch";
import { check, cstr, syscall } from "./libc";

const MFD_CLOEXEC = 1;

/** The C library mapped into this process (glibc's libc.so.6), or null. */
function loadedLibc(): string | null {
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const path = line.slice(line.indexOf("/"));
    if (line.includes("/") && /\/libc(\.so\.\d+|-[\d.]+\.so)$/.test(path)) return path;
  }
  return null;
}

/** cc, retried with the running C library as libc.so where TinyCC found none. */
function compile<Fns extends Record<string, FFIFunction>>(source: string, symbols: Fns): Library<Fns>["symbols"] {
  try {
    return cc({ source, symbols }).symbols;
  } catch (e) {
    const libc = /library 'c' not found/.test((e as Error).message) ? loadedLibc() : null;
    if (!libc) throw e;
    const dir = mkdtempSync(join(tmpdir(), "mycr-cc-"));
    try {
      symlinkSync(libc, join(dir, "libc.so"));
      return cc({ source, symbols, flags: [`-L${dir}`] }).symbols;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Compiles `source` and returns its symbols; throws one line naming what failed. */
export function compileC<Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns): Library<Fns>["symbols"] {
  const label = cstr(`mycr-${name}`);
  const fd = check(syscall(SYS.memfd_create, ptr(label), MFD_CLOEXEC), "memfd_create", name);
  try {
    writeSync(fd, source);
    try {
      return compile(`/proc/self/fd/${fd}`, symbols);
    } catch (e) {
      throw new Error(`compiling ${name} with bun:ffi's cc failed (${(e as Error).message.split("\n")[0]}); user and time namespaces need it`);
    }
  } finally {
    closeSync(fd);
  }
}
