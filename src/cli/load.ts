import { isatty } from "node:tty";
import { imageStore } from "../engine/image";
import { loadArchive } from "../image/archive-load";
import { UsageError, single } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "load", description: "Load images from a docker-archive or oci-archive (docker save, skopeo, podman save)" },
  args: {
    input: { type: "string", alias: "i", description: "Archive to read (gzip/zstd too; default stdin)", valueHint: "FILE" },
    quiet: { type: "boolean", alias: "q", description: "No progress messages" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    if (args._.length > 0) throw new UsageError(`load takes no arguments (got "${args._[0]}"): mycr load -i FILE`);
    const input = single(args.input) ?? "-";
    if (input === "-" && isatty(0)) throw new UsageError("load: no archive: give -i FILE or redirect stdin");
    const images = await loadArchive(imageStore(), input, { say: args.quiet === true ? undefined : (m) => log.info(m) });
    // docker's wording, which scripts parse
    for (const image of images) {
      if (image.names.length === 0) out(`Loaded image ID: ${image.id}`);
      for (const name of image.names) out(`Loaded image: ${name}`);
    }
    return 0;
  },
});
