// Compiles mycr's C (src/sys/native/*.c) at run time with the TinyCC that Bun embeds
// (bun:ffi's cc), once per process. The source travels inside the binary as text;
// TinyCC reads only real files, so it is handed a memfd through /proc/self/fd.
// The C includes no headers: no libc6-dev (or any compiler) is needed on the host.
import { cc, ptr, type FFIFunction, type Library } from "bun:ffi";
import { closeSync, writeSync } from "node:fs";
import { SYS } from "./arch";
import { check, cstr, syscall } from "./libc";

const MFD_CLOEXEC = 1;

/** Compiles `source` and returns its symbols; throws one line naming what failed. */
export function compileC<Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns): Library<Fns>["symbols"] {
  const label = cstr(`mycr-${name}`);
  const fd = check(syscall(SYS.memfd_create, ptr(label), MFD_CLOEXEC), "memfd_create", name);
  try {
    writeSync(fd, source);
    try {
      return cc({ source: `/proc/self/fd/${fd}`, symbols }).symbols;
    } catch (e) {
      throw new Error(`compiling ${name} with bun:ffi's cc failed (${(e as Error).message.split("\n")[0]}); user and time namespaces need it`);
    }
  } finally {
    closeSync(fd);
  }
}
