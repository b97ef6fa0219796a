// How images are shown: docker's table columns and JSON objects, and the inspect document.
import { humanDuration } from "../engine/duration";
import { formatBytes } from "../engine/units";
import { imageConfig, isUntagged } from "../image/images";
import { hex, type ImageRecord, type ImageStore } from "../image/store";
import type { ImageConfig } from "../image/types";

export interface ImageView {
  record: ImageRecord;
  repository: string;
  tag: string;
  /** The image config's `created`, else when it came into the store. */
  created: string;
  config: ImageConfig;
}

/** docker.io/library/alpine:3.20 -> [docker.io/library/alpine, 3.20]; digest-only and untagged names have no tag. */
function splitName(image: ImageRecord): [string, string] {
  if (isUntagged(image)) return ["<none>", "<none>"];
  const at = image.name.indexOf("@");
  const base = at >= 0 ? image.name.slice(0, at) : image.name;
  const colon = base.lastIndexOf(":");
  if (colon > base.lastIndexOf("/")) return [base.slice(0, colon), base.slice(colon + 1)];
  return [base, "<none>"];
}

/** The store's images; a build's intermediate steps only with `all` (docker's images -a). */
export function imageViews(store: ImageStore, all = false): ImageView[] {
  return store.images().filter((r) => all || !r.intermediate).map((record) => {
    const [repository, tag] = splitName(record);
    let config: ImageConfig;
    try {
      config = imageConfig(store, record);
    } catch {
      config = { rootfs: { type: "layers", diff_ids: [] } }; // a damaged store still lists
    }
    const created = config.created && !Number.isNaN(Date.parse(config.created)) ? config.created : record.pulled;
    return { record, repository, tag, created, config };
  });
}

const shortId = (v: ImageView) => hex(v.record.config).slice(0, 12);

export function imageRow(v: ImageView, digests: boolean, now: number): string[] {
  return [v.repository, v.tag, ...(digests ? [v.record.digest] : []), shortId(v), `${humanDuration(now - Date.parse(v.created))} ago`, formatBytes(v.record.size)];
}

export const IMAGE_HEADER = (digests: boolean) => ["REPOSITORY", "TAG", ...(digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];

/** One object a line with docker's keys (`docker images --format json`), plus the size in bytes. */
export function imageJson(v: ImageView, now: number): string {
  return JSON.stringify({
    ID: shortId(v),
    Repository: v.repository,
    Tag: v.tag,
    Digest: v.record.digest,
    CreatedAt: v.created,
    CreatedSince: `${humanDuration(now - Date.parse(v.created))} ago`,
    Size: formatBytes(v.record.size),
    SizeBytes: v.record.size,
  });
}

/** docker image inspect's main fields, from our record and the image config. */
export function inspectImage(v: ImageView, names: string[]): Record<string, unknown> {
  const c = v.config;
  return {
    Id: v.record.config,
    RepoTags: names.filter((n) => !n.includes("@")),
    RepoDigests: names.map((n) => `${n.replace(/[:@][^/]*$/, "")}@${v.record.digest}`),
    Created: v.created,
    Architecture: c.architecture ?? "",
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os ?? "",
    Config: c.config ?? {},
    RootFS: { Type: c.rootfs?.type ?? "layers", Layers: c.rootfs?.diff_ids ?? [] },
    Size: v.record.size,
    Metadata: { Pulled: v.record.pulled, Manifest: v.record.manifest, ChainIds: v.record.layers },
  };
}
