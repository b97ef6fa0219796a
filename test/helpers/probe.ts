// test/fixtures/probe.c, compiled statically at test time: system calls busybox has no
// applet for (keyctl, ptrace, clone flags). Needs gcc and static glibc (libc6-dev).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, WORK } from "./env";

/** Path of the compiled probe, or null when this machine cannot build it. */
export function buildProbe(): string | null {
  const out = join(WORK, "probe");
  if (existsSync(out)) return out;
  mkdirSync(WORK, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = Bun.spawnSync(["gcc", "-static", "-O1", "-o", tmp, join(REPO, "test/fixtures/probe.c")], { stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  Bun.spawnSync(["mv", "-f", tmp, out]);
  return out;
}

export const canBuildProbe = (() => {
  const r = Bun.spawnSync(["sh", "-c", "command -v gcc && test -e /usr/lib/x86_64-linux-gnu/libc.a -o -e /usr/lib/aarch64-linux-gnu/libc.a"]);
  return r.exitCode === 0;
})();

/** Path of test/fixtures/NAME.c compiled statically into WORK, or null when this machine cannot build it. */
export function buildFixture(name: string): string | null {
  const source = join(REPO, `test/fixtures/${name}.c`);
  // Named by the source's hash: an edited fixture is compiled again.
  const out = join(WORK, `${name}-${new Bun.CryptoHasher("sha256").update(readFileSync(source)).digest("hex").slice(0, 12)}`);
  if (existsSync(out)) return out;
  mkdirSync(WORK, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = Bun.spawnSync(["gcc", "-static", "-O1", "-o", tmp, source], { stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  Bun.spawnSync(["mv", "-f", tmp, out]);
  return out;
}
