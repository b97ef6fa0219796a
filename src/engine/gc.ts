// `mycr gc`, and the look every command that creates a container takes after its start.
// The collection itself (gc-collect.ts: networks, cgroups, roots, ~100 KB of code with
// what it loads) is imported only when there is something to collect, so that `create`
// and `run` do not load it to find nothing.
import { trace } from "../runtime/trace";
import type { StateStore } from "../runtime/state";
import { anythingAbandoned } from "./abandoned";
import type { GcReport } from "./gc-collect";

export type { GcReport };

const collector = () => import("./gc-collect");

/** `mycr gc`: everything dead owners left, waiting for a collector already at work. */
export async function collectGarbage(store: StateStore): Promise<GcReport> {
  return (await collector()).collectGarbage(store);
}

/**
 * For the commands that create a container, once its process runs (so the start is not
 * slowed): when a cheap look (one readdir each of the state and containers directories,
 * a liveness test of each recorded owner) finds something a dead mycr left, collect as
 * `mycr gc` would. Skipped while another process collects. Never fails the command:
 * problems go to `onProblem`, and `mycr gc` remains. `own` (the caller's container,
 * alive by definition) is not looked at.
 */
export async function collectAbandoned(store: StateStore, onProblem?: (message: string) => void, own?: string): Promise<void> {
  try {
    trace("gc: look for abandoned containers");
    const found = anythingAbandoned(store, own);
    trace(found ? "gc: found some" : "gc: none");
    if (!found) return;
    await (await collector()).collectUnlessBusy(store);
  } catch (e) {
    onProblem?.(`cleaning up after a killed mycr: ${(e as Error).message} (mycr gc retries)`);
  }
}
