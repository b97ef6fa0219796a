import { Builder } from "../build/builder";
import { hex } from "../image/store";
import { StateStore } from "../runtime/state";
import { UsageError, list, single } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";

/** --build-arg K=V, or K alone: the value of K in mycr's environment (docker's rule). */
function buildArgs(given: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of given) {
    const eq = a.indexOf("=");
    if (eq === 0) throw new UsageError(`--build-arg "${a}": expected KEY=VALUE`);
    if (eq > 0) out.set(a.slice(0, eq), a.slice(eq + 1));
    else if (process.env[a] !== undefined) out.set(a, process.env[a]!);
  }
  return out;
}

export default defineMycrCommand({
  meta: { name: "build", description: "Build an image from a Dockerfile (Containerfile) and a context directory; prints its id" },
  args: {
    tag: { type: "string", alias: "t", description: "Name for the image (repeatable)", valueHint: "NAME" },
    file: { type: "string", alias: "f", description: "The Dockerfile (default DIR/Dockerfile, else DIR/Containerfile)", valueHint: "FILE" },
    "build-arg": { type: "string", description: "Set an ARG (repeatable); KEY alone takes mycr's environment's value", valueHint: "KEY=VALUE" },
    target: { type: "string", description: "Build up to this stage (FROM … AS NAME)", valueHint: "STAGE" },
    "no-cache": { type: "boolean", description: "Run every step again (the results still fill the cache)" },
    network: { type: "string", description: "Network of RUN steps: none, host, bridge, or a network's name (default: run's)", valueHint: "NET" },
    quiet: { type: "boolean", alias: "q", description: "Print only the image id (no steps, no RUN output)" },
    context: { type: "positional", description: "The build context directory", required: true },
  },
  needsRoot: true,
  async run(args, global) {
    if (args._.length !== 1) throw new UsageError("usage: mycr build [-t NAME]... [-f FILE] [--build-arg K=V]... [--target STAGE] [--no-cache] DIR");
    const quiet = args.quiet === true;
    const builder = new Builder({
      contextDir: args._[0]!,
      file: single(args.file),
      tags: list(args.tag),
      buildArgs: buildArgs(list(args["build-arg"])),
      target: single(args.target),
      noCache: args["no-cache"] === true,
      network: single(args.network),
      states: new StateStore(global.stateRoot),
      say: quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
      warn: (m) => log.warn(m),
      runOutput: quiet ? "ignore" : 2,
    });
    out(`sha256:${hex(await builder.build())}`);
    return 0;
  },
});
