import { imageStore } from "../engine/image";
import { hex } from "../image/store";
import { formatOption, formatRows } from "./format";
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
    format: { ...formatOption("REPOSITORY, TAG, IMAGE ID, CREATED, SIZE"), alias: undefined },
  },
  // root's store without root, the user's own store (in its user namespace) with it
  needsRoot: true,
  rootless: "enter",
  run(args) {
    const views = imageViews(imageStore(), args.all === true);
    const now = Date.now();
    if (args.quiet === true) {
      for (const id of new Set(views.map((v) => hex(v.record.config).slice(0, 12)))) out(id);
    } else {
      const rows = views.map((v) => JSON.parse(imageJson(v, now)) as Record<string, unknown>);
      const headers = { Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST", ID: "IMAGE ID", CreatedSince: "CREATED", Size: "SIZE", CreatedAt: "CREATED AT" };
      const text = formatRows(args.format, rows, { headers, table: () => formatTable(IMAGE_HEADER(args.digests === true), views.map((v) => imageRow(v, args.digests === true, now))) });
      if (text !== "") out(text);
    }
    return 0;
  },
});
