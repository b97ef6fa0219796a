import { isatty } from "node:tty";
import { imageStore } from "../engine/image";
import { importRootfs } from "../image/import";
import { hex } from "../image/store";
import { UsageError, list } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "import", description: "Make a one-layer image from a root filesystem tar (docker export, tar -C DIR -c .); prints its id" },
  args: {
    change: { type: "string", alias: "c", description: "Set config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR (repeatable)", valueHint: "INSTRUCTION" },
    file: { type: "positional", description: "Tar file (gzip/zstd too), - for stdin", required: true },
    reference: { type: "positional", description: "Name for the image (none: untagged)", required: false },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    if (args._.length < 1 || args._.length > 2) throw new UsageError("usage: mycr import FILE|- [REFERENCE]");
    if (args._[0] === "-" && isatty(0)) throw new UsageError("import: stdin is a terminal: pipe a tar into it (tar -C DIR -c . | mycr import - NAME)");
    const id = await importRootfs(imageStore(), args._[0]!, { name: args._[1], changes: list(args.change), onWarning: (m) => log.warn(m), onInfo: (m) => log.info(m) });
    out(`sha256:${hex(id)}`);
    return 0;
  },
});
