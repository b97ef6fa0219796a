// The references the start-up benches compare mycr with, made the same way each time.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A runc bundle in `dir` running `args` on `rootfs` (read-only), made by `runc spec` as clients do. */
export async function runcBundle(runc: string, dir: string, rootfs: string, args: string[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  Bun.spawnSync([runc, "spec"], { cwd: dir });
  const config = await Bun.file(join(dir, "config.json")).json();
  config.process.terminal = false;
  config.process.args = args;
  config.root = { path: rootfs, readonly: true };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  return dir;
}

/** A compiled Bun hello in `dir`: the floor of any process of a compiled Bun program. */
export function buildHello(dir: string): string {
  const src = join(dir, "hello.ts");
  writeFileSync(src, 'console.log("hello");\n');
  const out = join(dir, "hello");
  const r = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", src, "--outfile", out], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bun build --compile hello: ${r.stderr.toString()}`);
  return out;
}
