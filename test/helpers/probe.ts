// Small C programs under test/fixtures, compiled statically at test time (never committed
// as binaries): probe.c makes system calls busybox has no applet for (keyctl, ptrace,
// clone flags, renameat2); fake-loader.c is a hostile image's dynamic loader. Needs gcc
// and static glibc (libc6-dev).
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO, WORK } from "./env";

/** Path of test/fixtures/NAME.c compiled (again when the source is newer), or null when this machine cannot. */
function buildFixture(name: string, flags: string[]): string | null {
  const source = join(REPO, "test/fixtures", `${name}.c`);
  const out = join(WORK, name);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return out;
  mkdirSync(WORK, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = Bun.spawnSync(["gcc", "-static", "-O1", ...flags, "-o", tmp, source], { stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  Bun.spawnSync(["mv", "-f", tmp, out]);
  return out;
}

export function buildProbe(): string | null {
  return buildFixture("probe", []);
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
