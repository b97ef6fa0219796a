// mycr's C compiled at run time (src/sys/native-cc.ts, TinyCC's way: a binary built
// without a compiler, or MYCR_NATIVE=tinycc as here) on a host without libc6-dev: TinyCC links
// "-lc" and looks for libc.so, a file only libc6-dev installs (a Debian server without
// build tools has none). A rootless mycr needs that C for its user namespace, so it ran
// nowhere such. Here the host's library directory is replaced, in a mount namespace of
// the test's own, by one holding only the shared libraries the programs load, and an
// ordinary user's `mycr info` (which enters its user namespace) must work there.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { MYCR, WORK } from "./helpers/env";

const LIB = "/usr/lib/x86_64-linux-gnu";
const NOBODY = 65534;
const cannot = !existsSync(LIB) ? `no ${LIB} (not a Debian-style x86-64 host)` : !Bun.which("unshare") || !Bun.which("setpriv") ? "unshare and setpriv (util-linux) are needed" : null;
let dir = "";

/** The shared libraries `programs` load, copied under their sonames into `to`. */
function copyLibraries(programs: string[], to: string): void {
  for (const program of programs) {
    const out = Bun.spawnSync(["ldd", program], { stdout: "pipe" }).stdout.toString();
    for (const line of out.split("\n")) {
      const m = /^\s*(\S+)(?:\s+=>\s+(\/\S+))?\s+\(0x/.exec(line);
      const path = m?.[2] ?? (m?.[1]?.startsWith("/") ? m[1] : undefined);
      if (m && path) copyFileSync(realpathSync(path), join(to, basename(m[1]!)));
    }
  }
}

beforeAll(() => {
  if (cannot) return;
  dir = mkdtempSync(join(WORK, "native-cc-"));
  chmodSync(dir, 0o755); // the user passes through to its home
  mkdirSync(join(dir, "lib"));
  copyLibraries([MYCR, Bun.which("setpriv")!, Bun.which("env")!], join(dir, "lib"));
  mkdirSync(join(dir, "home"), { mode: 0o700 });
  chownSync(join(dir, "home"), NOBODY, NOBODY);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.skipIf(cannot !== null)("without libc6-dev's libc.so, a rootless mycr still makes its user namespace", () => {
  expect(existsSync(join(dir, "lib", "libc.so"))).toBe(false);
  const home = join(dir, "home");
  const asNobody = `setpriv --reuid ${NOBODY} --regid ${NOBODY} --clear-groups env -i HOME=${home} XDG_RUNTIME_DIR=${home} PATH=/usr/bin:/bin MYCR_NATIVE=tinycc ${MYCR} info`;
  const r = Bun.spawnSync(["unshare", "--mount", "sh", "-c", `mount --bind ${dir}/lib ${LIB} && ${asNobody}`], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).not.toContain("compiling spawn-in-namespaces");
  expect(`${r.stdout}${r.stderr}`).toContain("Rootless: true");
  expect(r.exitCode).toBe(0);
});
