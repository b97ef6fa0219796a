// mycr's C (src/sys/native/*.c), loaded once per process. Two ways:
// - built into the binary: build.ts compiled every file with the system's C compiler
//   (scripts/compile-native.ts: for size, gzip'd) into one shared object carried inside
//   the executable; it is written to a memfd and dlopen'ed through /proc/self/fd (no file on disk, nothing to
//   compile at start-up: 6-180 ms of TinyCC saved, docs/performance.md);
// - compiled now by the TinyCC that Bun embeds (bun:ffi's cc), when the binary was built
//   without a compiler, when run from source, or with MYCR_NATIVE=tinycc (the tests use
//   it to keep this way working). TinyCC reads only real files: it gets a memfd too.
// The C includes no headers: no libc6-dev (or any compiler) is needed on the host.
// TinyCC still links "-lc", which it finds as libc.so, a file libc6-dev alone
// provides; without it, TinyCC is shown a private directory where libc.so is the C
// library this process already runs on (its symbols are resolved from the process).
import { cc, dlopen, ptr, type FFIFunction, type Library } from "bun:ffi";
import { closeSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
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

/** The C library mapped into this process (glibc's libc.so.6), or null. */
function loadedLibc(): string | null {
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const path = line.slice(line.indexOf("/"));
    if (line.includes("/") && /\/libc(\.so\.\d+|-[\d.]+\.so)$/.test(path)) return path;
  }
  return null;
}

/** TinyCC's cc, retried with the running C library as libc.so where TinyCC found none. */
function compile<Fns extends Record<string, FFIFunction>>(source: string, symbols: Fns): Library<Fns>["symbols"] {
  try {
    return cc({ source, symbols }).symbols;
  } catch (e) {
    const libc = /library 'c' not found/.test((e as Error).message) ? loadedLibc() : null;
    if (!libc) throw e;
    // node:os only here, where it is needed: loading it costs ~1 ms at every start
    const dir = mkdtempSync(join((require("node:os") as typeof import("node:os")).tmpdir(), "mycr-cc-"));
    try {
      symlinkSync(libc, join(dir, "libc.so"));
      return cc({ source, symbols, flags: [`-L${dir}`] }).symbols;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The prebuilt object's memfd, kept open: every dlopen of its path is then the same library. */
let prebuiltFd: number | undefined;

/** Which way this process gets its C: "prebuilt" (built into the binary) or "tinycc". */
export function nativeCodeSource(): "prebuilt" | "tinycc" {
  return prebuilt !== null && process.env.MYCR_NATIVE !== "tinycc" ? "prebuilt" : "tinycc";
}

/**
 * The symbols of one of mycr's C files (`name`.c, at `sourcePath`); throws one line
 * naming what failed. The source is a file the binary carries, not a string in the code:
 * a 41 KB string literal in a chunk cost ~2 ms of CPU to load in every process that
 * starts a container, and only the TinyCC way reads it (docs/performance.md).
 */
export function loadC<Fns extends Record<string, FFIFunction>>(name: string, sourcePath: string, symbols: Fns): Library<Fns>["symbols"] {
  if (nativeCodeSource() === "prebuilt") {
    prebuiltFd ??= memfd("native.so", Bun.gunzipSync(Buffer.from(prebuilt!, "base64")));
    try {
      return dlopen(`/proc/self/fd/${prebuiltFd}`, symbols).symbols;
    } catch (e) {
      throw new Error(`loading mycr's built-in C (${name}) failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  // Bun's own reader: the path may be inside the binary (/$bunfs), which TinyCC cannot open.
  const fd = memfd(name, readFileSync(sourcePath, "utf8"));
  try {
    return compile(`/proc/self/fd/${fd}`, symbols);
  } catch (e) {
    throw new Error(`compiling ${name} with bun:ffi's cc failed (${(e as Error).message.split("\n")[0]})`);
  } finally {
    closeSync(fd);
  }
}
