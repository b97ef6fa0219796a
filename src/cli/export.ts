import { closeSync, openSync, rmSync } from "node:fs";
import { isatty } from "node:tty";
import { findContainer } from "../engine/containers";
import { exportContainer } from "../engine/export";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { UsageError, single } from "./argv";
import { defineMycrCommand } from "./command";
import { toStdout } from "./output";

export default defineMycrCommand({
  meta: { name: "export", description: "Write a running container's root filesystem as a tar archive (to stdout, or -o FILE)" },
  args: {
    output: { type: "string", alias: "o", description: "Write to this file instead of stdout", valueHint: "FILE" },
    container: { type: "positional", description: "Container name or id" },
  },
  needsRoot: true,
  async run(args, global) {
    if (args._.length !== 1) throw new UsageError("export needs one container: mycr export [-o FILE] CONTAINER");
    const ref = args._[0]!;
    const file = single(args.output);
    const view = findContainer(new StateStore(global.stateRoot), ref);
    if (file === undefined) {
      if (isatty(1)) throw new ContainerError("export: refusing to write a tar archive to a terminal; use -o FILE or redirect stdout");
      await toStdout(() => exportContainer(view, ref, 1));
      return 0;
    }
    const fd = openSync(file, "w", 0o600);
    try {
      await exportContainer(view, ref, fd);
    } catch (e) {
      rmSync(file, { force: true }); // no half archive left behind
      throw e;
    } finally {
      closeSync(fd);
    }
    return 0;
  },
});
