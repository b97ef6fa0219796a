// What a spec's namespaces mean for ending the container, with nothing else loaded:
// `delete` reads these before it decides what to load and how to wait.
import type { Spec } from "./types";

/** No {"type": "mount"}: the container mounts into the runtime's own mount namespace (runtime/shared-mounts.ts). */
export function sharesRuntimeMounts(spec: Spec): boolean {
  return !(spec.linux?.namespaces ?? []).some((n) => n.type === "mount");
}

/**
 * A new PID namespace (no path to join): the container's init is its PID 1, and the
 * kernel kills every other process in it before init's exit completes.
 */
export function ownsPidNamespace(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === "pid" && !n.path);
}
