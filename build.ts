// Builds the single mycr executable: `bun build.ts [--target linux-x64|linux-arm64] [--outfile PATH]`.
import { parseArgs } from "node:util";
import { compileNative } from "./scripts/compile-native";

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

// mycr's C as one shared object built into the binary, when a C compiler for the target is
// here; without one the binary compiles its C with TinyCC at run time (src/sys/native-cc.ts).
const prebuilt = native ? compileNative() : null;
console.log(prebuilt ? `C of src/sys/native built with ${prebuilt.compiler}` : "no C compiler for this target: the binary compiles its C with TinyCC at run time");

const result = await Bun.build({
  // the pull's Worker is a second entry point: compiled executables only run Workers built in
  entrypoints: ["src/main.ts", "src/image/layer-worker.ts"],
  compile: {
    target: target as "bun-linux-x64",
    outfile,
    // A compiled Bun program would otherwise read `.env` files and `bunfig.toml` from the
    // directory it is started in: a bunfig's `preload` runs its script, as root, before
    // mycr's first line, and a `.env` sets MYCR_* variables. That directory may be a volume
    // a container writes (docs/security.md, "Files in the working directory").
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    // JavaScriptCore's tier-up thresholds ×10: a command runs most of its code once, and
    // the JIT's threads compiled it for nothing (`run`: -10% wall, -15% CPU, measured in
    // docs/performance.md, "Build-level costs"); the supervisor sets 1 again (it lives long).
    jitPolicy: 10,
  },
  minify: true,
  sourcemap: "none",
  bytecode: true,
  // One chunk per dynamic import (each command, init, the monitor, the image code), so a
  // process parses only what it runs: `--version` 79 -> 65 ms of CPU, `run` 236 -> 215
  // (docs/performance.md). Splitting needs ES modules.
  format: "esm",
  splitting: true,
  plugins: prebuilt
    ? [{
        name: "prebuilt-native",
        setup(build) {
          build.onLoad({ filter: /src\/sys\/native\/prebuilt\.ts$/ }, () => ({
            contents: `const prebuilt: string | null = ${JSON.stringify(prebuilt.base64)};\nexport default prebuilt;\n`,
            loader: "ts",
          }));
        },
      }]
    : [],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (${values.target})`);
