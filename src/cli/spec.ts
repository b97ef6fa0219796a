import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, makeRootless } from "../spec/defaults";
import { ContainerError } from "../runtime/errors";
import { single } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "spec", description: "Write a default config.json for an OCI bundle" },
  args: {
    bundle: { type: "string", alias: "b", description: "Bundle directory (default: the current directory)", valueHint: "DIR" },
    rootless: { type: "boolean", description: "For an ordinary user: a user namespace mapping your uid and gid to root" },
  },
  run(args) {
    const path = join(single(args.bundle) ?? ".", "config.json");
    if (existsSync(path)) throw new ContainerError(`${path} already exists: remove it first`);
    const spec = defaultSpec(["sh"], "rootfs");
    spec.process!.terminal = true;
    spec.process!.env!.push("TERM=xterm");
    if (args.rootless === true) makeRootless(spec, process.geteuid?.() ?? 0, process.getegid?.() ?? 0);
    // root's alone, as mycr's own records: a bundle's config.json soon holds -e secrets
    writeFileSync(path, JSON.stringify(spec, null, 2) + "\n", { mode: 0o600 });
    return 0;
  },
});
