import { imageStore } from "../engine/image";
import { formatBytes } from "../engine/units";
import { hex } from "../image/store";
import { defineMycrCommand } from "./command";
import { out } from "./output";
import { formatTable } from "./table";

/** docker.io/library/alpine:3.20 -> [docker.io/library/alpine, 3.20]; a digest-only name has no tag. */
function splitName(name: string): [string, string] {
  if (name === "") return ["<none>", "<none>"]; // untagged (load or import without a name)
  const at = name.indexOf("@");
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(":");
  if (colon > base.lastIndexOf("/")) return [base.slice(0, colon), base.slice(colon + 1)];
  return [base, "<none>"];
}

export default defineMycrCommand({
  meta: { name: "images", description: "List the images in the local store" },
  args: {
    quiet: { type: "boolean", alias: "q", description: "Only image ids" },
    digests: { type: "boolean", description: "Show the manifest digests" },
  },
  run(args) {
    const images = imageStore().images();
    if (args.quiet === true) {
      for (const id of new Set(images.map((i) => hex(i.config).slice(0, 12)))) out(id);
      return 0;
    }
    const header = ["REPOSITORY", "TAG", ...(args.digests === true ? ["DIGEST"] : []), "IMAGE ID", "SIZE"];
    const rows = images.map((i) => {
      const [repo, tag] = splitName(i.name);
      return [repo, tag, ...(args.digests === true ? [i.digest] : []), hex(i.config).slice(0, 12), formatBytes(i.size)];
    });
    out(formatTable(header, rows));
    return 0;
  },
});
