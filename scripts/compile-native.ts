// Compiles src/sys/native/*.c with the system's C compiler into one shared object, for
// build.ts to carry inside the binary (src/sys/native-cc.ts loads it). Returns null when
// no compiler is on PATH or it fails: the binary then compiles its C with TinyCC at run
// time, as it always could. MYCR_BUILD_CC=none builds that way on purpose.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SOURCES = join(import.meta.dir, "../src/sys/native");

export function compileNative(): { compiler: string; base64: string } | null {
  const wanted = process.env.MYCR_BUILD_CC ?? "cc";
  if (wanted === "none") return null;
  const compiler = Bun.which(wanted);
  if (!compiler) return null;
  const files = readdirSync(SOURCES).filter((f) => f.endsWith(".c")).map((f) => join(SOURCES, f));
  const dir = mkdtempSync(join(tmpdir(), "mycr-native-"));
  try {
    const out = join(dir, "native.so");
    // No headers, no start files needed: the C declares what it calls from libc, which
    // the process has loaded already. Small first: every process that starts a container
    // loads the object's text from a string in the code (~45 µs of CPU a KB here), so it is
    // built for size, stripped, without unwind tables or page-aligned code segments, and
    // gzip'd (26.6 KB -> 15 KB -> 9 KB); plain -O2 where the linker refuses those flags.
    const attempts = [
      ["-Os", "-s", "-fno-asynchronous-unwind-tables", "-ffunction-sections", "-Wl,--gc-sections", "-Wl,-z,noseparate-code", "-Wl,-z,norelro", "-Wl,--hash-style=gnu"],
      ["-O2"],
    ];
    let failure = "";
    for (const flags of attempts) {
      const r = Bun.spawnSync([compiler, ...flags, "-shared", "-fPIC", "-o", out, ...files], { stderr: "pipe" });
      if (r.exitCode === 0) return { compiler: wanted, base64: Buffer.from(Bun.gzipSync(readFileSync(out), { level: 9 })).toString("base64") };
      failure = r.stderr.toString();
    }
    console.error(`build: ${wanted} failed on src/sys/native (using TinyCC at run time instead):\n${failure}`);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
