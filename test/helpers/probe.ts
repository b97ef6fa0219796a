// Small C programs under test/fixtures, compiled statically at test time (never committed
// as binaries): probe.c makes system calls busybox has no applet for (keyctl, ptrace,
// clone flags, renameat2); fake-loader.c is a hostile image's dynamic loader;
// loopback-escape.c sends hand-made frames. Needs gcc and static glibc (libc6-dev).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, WORK } from "./env";

/** Path of test/fixtures/NAME.c compiled statically into WORK, or null when this machine cannot build it. */
export function buildFixture(name: string, flags: string[] = []): string | null {
  const source = join(REPO, `test/fixtures/${name}.c`);
  // Named by the source's hash: an edited fixture is compiled again.
  const out = join(WORK, `${name}-${new Bun.CryptoHasher("sha256").update(readFileSync(source)).digest("hex").slice(0, 12)}`);
  if (existsSync(out)) return out;
  mkdirSync(WORK, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = Bun.spawnSync(["gcc", "-static", "-O1", ...flags, "-o", tmp, source], { stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  Bun.spawnSync(["mv", "-f", tmp, out]);
  return out;
}

export function buildProbe(): string | null {
  return buildFixture("probe");
}

/** The hostile loader, x86_64 only (its system calls are written in that architecture's assembly). */
export function buildFakeLoader(): string | null {
  if (process.arch !== "x64") return null;
  return buildFixture("fake-loader", ["-nostdlib", "-fno-stack-protector"]);
}

export const canBuildProbe = (() => {
  const r = Bun.spawnSync(["sh", "-c", "command -v gcc && test -e /usr/lib/x86_64-linux-gnu/libc.a -o -e /usr/lib/aarch64-linux-gnu/libc.a"]);
  return r.exitCode === 0;
})();
