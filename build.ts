// Builds the single mycr executable: `bun build.ts [--target linux-x64|linux-arm64] [--outfile PATH]`.
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: process.arch === "arm64" ? "linux-arm64" : "linux-x64" },
    outfile: { type: "string" },
  },
});

const targets: Record<string, string> = { "linux-x64": "bun-linux-x64", "linux-arm64": "bun-linux-arm64" };
const target = targets[values.target!];
if (!target) {
  console.error(`build: unknown --target ${values.target} (use ${Object.keys(targets).join(" or ")})`);
  process.exit(2);
}
const native = values.target === (process.arch === "arm64" ? "linux-arm64" : "linux-x64");
const outfile = values.outfile ?? (native ? "dist/mycr" : `dist/mycr-${values.target}`);

const result = await Bun.build({
  // the pull's Worker is a second entry point: compiled executables only run Workers built in
  entrypoints: ["src/main.ts", "src/image/layer-worker.ts"],
  compile: { target: target as "bun-linux-x64", outfile },
  minify: true,
  sourcemap: "none",
  bytecode: true,
  // One chunk per dynamic import (each command, init, the monitor, the image code), so a
  // process parses only what it runs: `--version` 79 -> 65 ms of CPU, `run` 236 -> 215
  // (docs/performance.md). Splitting needs ES modules.
  format: "esm",
  splitting: true,
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (${values.target})`);
