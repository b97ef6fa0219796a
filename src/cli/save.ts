import { isatty } from "node:tty";
import { imageStore } from "../engine/image";
import { saveImages, type ArchiveFormat } from "../image/archive-save";
import { UsageError, single } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "save", description: "Write images (names or ids) to a docker-archive or oci-archive" },
  args: {
    output: { type: "string", alias: "o", description: "File to write (default stdout, unless it is a terminal)", valueHint: "FILE" },
    format: { type: "enum", options: ["docker-archive", "oci-archive"], default: "docker-archive", description: "Archive format" },
    image: { type: "positional", description: "Image names or ids", required: true },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    if (args._.length === 0) throw new UsageError("usage: mycr save [-o FILE] [--format docker-archive|oci-archive] IMAGE...");
    const output = single(args.output);
    if (output === undefined && isatty(1)) throw new UsageError("save: refusing to write an archive to a terminal: give -o FILE or redirect stdout");
    await saveImages(imageStore(), args._, { format: single(args.format) as ArchiveFormat, ...(output !== undefined && output !== "-" ? { output } : {}) });
    return 0;
  },
});
