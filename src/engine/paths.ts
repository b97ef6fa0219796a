// Where the engine keeps containers' files: MYCR_ROOT (default /var/lib/mycr).
import { join } from "node:path";

export function dataRoot(): string {
  return process.env.MYCR_ROOT || "/var/lib/mycr";
}

export function containersDir(root = dataRoot()): string {
  return join(root, "containers");
}

export function containerDir(id: string, root = dataRoot()): string {
  return join(containersDir(root), id);
}
