import { imageStore } from "../engine/image";
import { parsePlatform } from "../image/platform";
import { pullImage } from "../image/pull";
import { hex } from "../image/store";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";
import { pullReporter } from "./pull-progress";

export default defineMycrCommand({
  meta: { name: "pull", description: "Pull an image from a registry; prints its id" },
  args: {
    platform: { type: "string", description: "Platform to pull from a multi-platform image (default the host's)", valueHint: "OS/ARCH[/VARIANT]" },
    "tls-verify": { type: "boolean", description: "Verify the registry's certificate; false also allows plain http (default true)" },
    quiet: { type: "boolean", alias: "q", description: "No progress: only errors on stderr" },
    image: { type: "positional", description: "Image reference (alpine, alpine:3.20, localhost:5000/x@sha256:…)", required: true },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    const ref = args._[0]!;
    const platform = single(args.platform);
    const reporter = pullReporter({ quiet: args.quiet === true });
    const image = await pullImage(imageStore(), ref, {
      ...(platform !== undefined ? { platform: parsePlatform(platform) } : {}),
      tlsVerify: args["tls-verify"] !== false,
      say: reporter.say,
      progress: reporter.progress,
    });
    if (args.quiet !== true) log.info(`pulled ${image.name} (${image.digest})`);
    out(hex(image.config));
    return 0;
  },
});
