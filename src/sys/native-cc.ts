// mycr's C (src/sys/native/*.c), loaded once per process. Two ways:
// - built into the binary: build.ts compiled every file with the system's C compiler
//   (`cc -O2 -shared -fPIC`) into one shared object carried inside the executable; it is
//   written to a memfd and dlopen'ed through /proc/self/fd (no file on disk, nothing to
//   compile at start-up: 6-180 ms of TinyCC saved, docs/performance.md);
// - compiled now by the TinyCC that Bun embeds (bun:ffi's cc), when the binary was built
//   without a compiler, when run from source, or with MYCR_NATIVE=tinycc (the tests use
//   it to keep this way working). TinyCC reads only real files: it gets a memfd too.
// The C includes no headers: no libc6-dev (or any compiler) is needed on the host.
import { cc, dlopen, ptr, type FFIFunction, type Library } from "bun:ffi";
import { closeSync, writeSync } from "node:fs";
import { SYS } from "./arch";
import { check, cstr, syscall } from "./libc";
import prebuilt from "./native/prebuilt";

const MFD_CLOEXEC = 1;

function memfd(name: string, content: string | Uint8Array): number {
  const label = cstr(`mycr-${name}`);
  const fd = check(syscall(SYS.memfd_create, ptr(label), MFD_CLOEXEC), "memfd_create", name);
  try {
    if (typeof content === "string") writeSync(fd, content);
    else writeSync(fd, content);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** The prebuilt object's memfd, kept open: every dlopen of its path is then the same library. */
let prebuiltFd: number | undefined;

/** Which way this process gets its C: "prebuilt" (built into the binary) or "tinycc". */
export function nativeCodeSource(): "prebuilt" | "tinycc" {
  return prebuilt !== null && process.env.MYCR_NATIVE !== "tinycc" ? "prebuilt" : "tinycc";
}

/**
 * The symbols of one of mycr's C files (`name`.c, whose text is `source`); throws one
 * line naming what failed.
 */
export function loadC<Fns extends Record<string, FFIFunction>>(name: string, source: string, symbols: Fns): Library<Fns>["symbols"] {
  if (nativeCodeSource() === "prebuilt") {
    prebuiltFd ??= memfd("native.so", Buffer.from(prebuilt!, "base64"));
    try {
      return dlopen(`/proc/self/fd/${prebuiltFd}`, symbols).symbols;
    } catch (e) {
      throw new Error(`loading mycr's built-in C (${name}) failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const fd = memfd(name, source);
  try {
    return cc({ source: `/proc/self/fd/${fd}`, symbols }).symbols;
  } catch (e) {
    throw new Error(`compiling ${name} with bun:ffi's cc failed (${(e as Error).message.split("\n")[0]})`);
  } finally {
    closeSync(fd);
  }
}
