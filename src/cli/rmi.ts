import { imageStore } from "../engine/image";
import { displayName, removeImage } from "../image/images";
import { defineMycrCommand } from "./command";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "rmi", description: "Remove images (names or ids); layers no other image uses go too" },
  args: {
    image: { type: "positional", description: "Image references or ids", required: true },
  },
  needsRoot: true,
  async run(args) {
    const store = imageStore();
    for (const ref of args._) out(displayName(await removeImage(store, ref)));
    return 0;
  },
});
