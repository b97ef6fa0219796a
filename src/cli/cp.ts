import { isatty } from "node:tty";
import { findContainer } from "../engine/containers";
import { copy, type CopyEnd } from "../engine/copy";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { toStdout } from "./output";

const USAGE = "mycr cp [-aL] CONTAINER:SRC_PATH DEST_PATH|-  or  mycr cp [-aL] SRC_PATH|- CONTAINER:DEST_PATH";

/** docker's rule: `NAME:PATH` names a container when no '/' comes before the ':' (give ./a:b for a local file). */
function parseEnd(text: string, store: StateStore): CopyEnd {
  if (text === "-") return { kind: "stream" };
  const colon = text.indexOf(":");
  if (colon > 0 && !text.slice(0, colon).includes("/")) {
    const ref = text.slice(0, colon);
    const path = text.slice(colon + 1);
    if (path === "") throw new UsageError(`cp: ${text}: give a path in the container after the ':'`);
    return { kind: "container", view: findContainer(store, ref), ref, path };
  }
  if (text === "") throw new UsageError(`cp: empty path (${USAGE})`);
  return { kind: "host", path: text };
}

export default defineMycrCommand({
  meta: { name: "cp", description: "Copy files between a running container and the host; - is a tar stream on stdin or stdout" },
  args: {
    archive: { type: "boolean", alias: "a", description: "Keep the files' owners (default: root's in the container, yours on the host)" },
    "follow-link": { type: "boolean", alias: "L", description: "Follow a symbolic link given as SRC_PATH" },
    quiet: { type: "boolean", alias: "q", description: "Print nothing (mycr cp prints nothing anyway)" },
    paths: { type: "positional", description: "SRC DEST: one of them CONTAINER:PATH" },
  },
  needsRoot: true,
  async run(args, global) {
    if (args._.length !== 2) throw new UsageError(`cp needs a source and a destination: ${USAGE}`);
    const store = new StateStore(global.stateRoot);
    const [src, dest] = [parseEnd(args._[0]!, store), parseEnd(args._[1]!, store)];
    if ((src.kind === "container") === (dest.kind === "container")) throw new UsageError(`cp: give a container on exactly one side: ${USAGE}`);
    if (src.kind === "stream" && isatty(0)) throw new ContainerError("cp: - reads a tar archive from stdin, which is a terminal; redirect or pipe one in");
    if (dest.kind === "stream" && isatty(1)) throw new ContainerError("cp: refusing to write a tar archive to a terminal; redirect stdout");
    const opts = { archive: args.archive === true, followLink: args["follow-link"] === true };
    await toStdout(() => copy(src, dest, opts));
    return 0;
  },
});
