// `mycr image prune|inspect`; `image ls|rm|pull|…` are docker's other names for
// top-level commands and are resolved before this file is loaded (index.ts).
import { imageStore } from "../engine/image";
import { formatBytes } from "../engine/units";
import { findImage, isUntagged, pruneImages } from "../image/images";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { imageViews, inspectImage } from "./image-views";
import { out } from "./output";
import { ContainerError } from "../runtime/errors";

export default defineMycrCommand({
  meta: { name: "image", description: "Manage images: prune, inspect (and ls, rm, pull, push, tag, load, save, import as docker's other names)" },
  args: {
    all: { type: "boolean", alias: "a", description: "prune: every image no running container uses, not only unnamed ones" },
    force: { type: "boolean", alias: "f", description: "prune: do not ask (mycr never asks; accepted for docker's sake)" },
    command: { type: "positional", description: "prune | inspect IMAGE..." },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args) {
    const [sub, ...rest] = args._;
    if (sub === "prune" && rest.length === 0) return prune(args.all === true);
    if (sub === "inspect") return inspect(rest);
    throw new UsageError(`image: unknown subcommand "${sub ?? ""}" (prune, inspect, ls, rm, pull, push, tag, load, save, import)`);
  },
});

async function prune(all: boolean): Promise<number> {
  if (process.getuid?.() !== 0) throw new ContainerError("must run as root (try sudo)");
  const { removed, freed } = await pruneImages(imageStore(), all);
  out("Deleted Images:");
  for (const r of removed) out(isUntagged(r) ? `deleted: ${r.config}` : `untagged: ${r.name}`);
  out(`\nTotal reclaimed space: ${formatBytes(freed)}`);
  return 0;
}

async function inspect(refs: string[]): Promise<number> {
  const store = imageStore();
  const views = imageViews(store, true);
  const found: Record<string, unknown>[] = [];
  const code = await eachContainer(refs, "image inspect", (ref) => {
    const image = findImage(store, ref);
    const view = image && views.find((v) => v.record.name === image.name);
    if (!view) throw new ContainerError(`image inspect ${ref}: no such image`);
    const names = views.filter((v) => v.record.config === image.config && !isUntagged(v.record)).map((v) => v.record.name);
    found.push(inspectImage(view, names));
  });
  out(JSON.stringify(found, null, 2));
  return code;
}
