import { imageStore } from "../engine/image";
import { isUntagged, removeImage } from "../image/images";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "rmi", description: "Remove images (names or ids); layers no other image uses go too" },
  args: {
    force: { type: "boolean", alias: "f", description: "Remove every name of an id, and images running containers use (their layers go when they end)" },
    image: { type: "positional", description: "Image references or ids", required: true },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    const store = imageStore();
    return eachContainer(args._, "rmi", async (ref) => {
      const removed = await removeImage(store, ref, { force: args.force === true });
      for (const r of removed.filter((r) => !isUntagged(r))) out(`Untagged: ${r.name}`);
      const id = removed[0]!.config;
      if (!store.images().some((i) => i.config === id)) out(`Deleted: ${id}`);
    });
  },
});
