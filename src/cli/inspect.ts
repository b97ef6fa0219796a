import { findContainer } from "../engine/containers";
import { imageStore } from "../engine/image";
import { inspectContainer } from "../engine/inspect";
import { ContainerError } from "../runtime/errors";
import { ContainerNotFound, StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { formatValue } from "./format";
import { inspectImageRef } from "./image-views";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "inspect", description: "Show containers' (or images') configuration and state as JSON (docker's shape), or parts of it with -f" },
  args: {
    format: { type: "string", alias: "f", description: "json, or a Go template per object: '{{.State.Pid}}', '{{json .Config}}'", valueHint: "FORMAT" },
    type: { type: "enum", options: ["container", "image"], description: "Look only for containers or only for images (default: containers, then images)" },
    container: { type: "positional", description: "Container (or image) names or ids" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const type = single(args.type);
    const found: Record<string, unknown>[] = [];
    const code = await eachContainer(args._, "inspect", (ref) => {
      let missing: ContainerNotFound | undefined;
      if (type !== "image") {
        try {
          found.push(inspectContainer(findContainer(store, ref)));
          return;
        } catch (e) {
          if (!(e instanceof ContainerNotFound) || type === "container") throw e;
          missing = e;
        }
      }
      const image = inspectImageRef(imageStore(), ref);
      // neither: said as a missing container (the usual meaning), or image with --type image
      if (!image) throw missing ?? new ContainerError(`no such image: ${ref}`);
      found.push(image);
    });
    if (args.format === undefined) out(JSON.stringify(found, null, 2));
    else for (const doc of found) out(formatValue(args.format, doc)!);
    return code;
  },
});
