import { imageStore } from "../engine/image";
import { hex } from "../image/store";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { IMAGE_HEADER, imageJson, imageRow, imageViews } from "./image-views";
import { out } from "./output";
import { formatTable } from "./table";

export default defineMycrCommand({
  meta: { name: "images", description: "List the images in the local store" },
  args: {
    quiet: { type: "boolean", alias: "q", description: "Only image ids" },
    all: { type: "boolean", alias: "a", description: "Also the intermediate images of builds (their layer cache)" },
    digests: { type: "boolean", description: "Show the manifest digests" },
    format: { type: "enum", options: ["table", "json"], default: "table", description: "table, or json (one object a line, docker's keys)" },
  },
  // root's store without root, the user's own store (in its user namespace) with it
  needsRoot: true,
  rootless: "enter",
  run(args) {
    const views = imageViews(imageStore(), args.all === true);
    const now = Date.now();
    if (args.quiet === true) {
      for (const id of new Set(views.map((v) => hex(v.record.config).slice(0, 12)))) out(id);
    } else if (single(args.format) === "json") {
      for (const v of views) out(imageJson(v, now));
    } else {
      out(formatTable(IMAGE_HEADER(args.digests === true), views.map((v) => imageRow(v, args.digests === true, now))));
    }
    return 0;
  },
});
