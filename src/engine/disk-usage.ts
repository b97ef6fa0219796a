// docker system df: what images and containers occupy under MYCR_ROOT. An image's layers
// are shared: each is counted once. A container occupies its upper dir (what it wrote),
// which exists while it runs (or was kept with --keep).
import { existsSync } from "node:fs";
import { O_DIRECTORY, close, openPath } from "../sys";
import type { StateStore } from "../runtime/state";
import { listContainers } from "./containers";
import { treeDiskUsage } from "./file-tree";
import { imageStore } from "./image";
import { containerDir } from "./paths";
import { rootfsPaths } from "./rootfs";

export interface UsageRow {
  type: "Images" | "Containers";
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

function upperSize(id: string): number {
  const upper = rootfsPaths(containerDir(id)).upper;
  if (!existsSync(upper)) return 0;
  const fd = openPath(upper, O_DIRECTORY);
  try {
    return treeDiskUsage(fd);
  } finally {
    close(fd);
  }
}

export function diskUsage(store: StateStore): UsageRow[] {
  const containers = listContainers(store);
  const running = (state: string) => state === "running" || state === "paused" || state === "restarting";
  const images = imageStore();
  const records = images.images();
  const byId = new Map(records.map((r) => [r.config, r]));
  // An image is in use while a container made from it exists (docker's "active").
  const used = new Set(records.filter((r) => containers.some((c) => c.image === r.name || c.engine?.image === r.name)).map((r) => r.config));
  const layerSize = (chains: Iterable<string>) => [...new Set(chains)].reduce((n, c) => n + images.layerSize(c), 0);
  const allLayers = [...byId.values()].flatMap((r) => r.layers);
  const usedLayers = new Set([...byId.values()].filter((r) => used.has(r.config)).flatMap((r) => r.layers));
  const imageSize = layerSize(allLayers);
  const sizes = containers.map((c) => ({ c, size: upperSize(c.id) }));
  const containerSize = sizes.reduce((n, s) => n + s.size, 0);
  return [
    { type: "Images", total: byId.size, active: used.size, size: imageSize, reclaimable: imageSize - layerSize(usedLayers) },
    {
      type: "Containers",
      total: containers.length,
      active: containers.filter((c) => running(c.state)).length,
      size: containerSize,
      reclaimable: sizes.filter((s) => !running(s.c.state)).reduce((n, s) => n + s.size, 0),
    },
  ];
}
