import { findContainer } from "../engine/containers";
import { containerChanges } from "../engine/diff";
import { StateStore } from "../runtime/state";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "diff", description: "List the files a running container added (A), changed (C) or deleted (D) in its root filesystem" },
  args: { container: { type: "positional", description: "Container name or id" } },
  needsRoot: true,
  run(args, global) {
    if (args._.length !== 1) throw new UsageError("diff needs one container: mycr diff CONTAINER");
    const ref = args._[0]!;
    const store = new StateStore(global.stateRoot);
    const changes = containerChanges(findContainer(store, ref), ref);
    if (changes.length > 0) out(changes.map((c) => `${c.kind} ${c.path}`).join("\n"));
    return 0;
  },
});
