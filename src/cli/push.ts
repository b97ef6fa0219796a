import { imageStore } from "../engine/image";
import { pushImage } from "../image/push";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";
import { pullReporter } from "./pull-progress";

export default defineMycrCommand({
  meta: { name: "push", description: "Push an image to a registry (to DEST if given, else to its own name); prints the manifest digest" },
  args: {
    "tls-verify": { type: "boolean", description: "Verify the registry's certificate; false also allows plain http (default true)" },
    quiet: { type: "boolean", alias: "q", description: "No progress: only errors on stderr" },
    image: { type: "positional", description: "Local image (name or id)", required: true },
    dest: { type: "positional", description: "Where to (REGISTRY/REPO:TAG, optionally docker://…; default the image's name)", required: false },
  },
  needsRoot: true,
  async run(args) {
    if (args._.length > 2) throw new UsageError("usage: mycr push [--tls-verify=false] [-q] IMAGE [DEST]");
    const reporter = pullReporter({ quiet: args.quiet === true, push: true });
    const pushed = await pushImage(imageStore(), args._[0]!, args._[1], {
      tlsVerify: args["tls-verify"] !== false,
      say: reporter.say,
      progress: reporter.progress,
    });
    if (args.quiet !== true) log.info(`pushed ${pushed.name} (${pushed.digest})`);
    out(pushed.digest);
    return 0;
  },
});
