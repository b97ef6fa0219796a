import { imageStore } from "../engine/image";
import { tagImage } from "../image/tag";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "tag", description: "Give a local image another name (SOURCE by name or id; an existing TARGET name moves)" },
  args: {
    source: { type: "positional", description: "Image name or id", required: true },
    target: { type: "positional", description: "New name (alpine:mine, localhost:5000/x:1)", required: true },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    if (args._.length !== 2) throw new UsageError("usage: mycr tag SOURCE TARGET");
    await tagImage(imageStore(), args._[0]!, args._[1]!);
    return 0;
  },
});
