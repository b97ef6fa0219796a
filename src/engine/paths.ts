// Where the engine keeps containers' files: MYCR_ROOT (default /var/lib/mycr).
import { join } from "node:path";
import { makePrivateDir } from "../runtime/atomic";
import { dataRoot } from "./data-root";

export { dataRoot };

export function containersDir(root = dataRoot()): string {
  return join(root, "containers");
}

export function containerDir(id: string, root = dataRoot()): string {
  return join(containersDir(root), id);
}

/**
 * Creates (or narrows) MYCR_ROOT and its containers directory, where the records that
 * hold containers' environments (container.json, monitor.json, logs) live: root's alone.
 */
export function makeContainersDir(root = dataRoot()): string {
  makePrivateDir(root, 0o711);
  makePrivateDir(containersDir(root), 0o700);
  return containersDir(root);
}
