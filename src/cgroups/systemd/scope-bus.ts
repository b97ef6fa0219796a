// The D-Bus side of a systemd scope (scope.ts): start it, change its properties, stop
// it. Imported only by those steps, so that the processes that only read or write a
// scope's cgroup files (state, kill, pause, ps, stats...) never load the D-Bus client.
import { join } from "node:path";
import type { Resources } from "../../spec/types";
import { CgroupError, type CgroupRecord } from "../types";
import { withSystemd, type SystemdBus } from "./manager";
import { resourceProperties, type Property } from "./properties";
import { Variant } from "./dbus-marshal";
import { expandSlice, type ScopeName } from "./unit-name";

/**
 * Starts the scope around `pid` with the limits systemd manages and the `extra`
 * properties (from annotations), waits until it is active, and returns the record of
 * its cgroup.
 */
export async function startScope(name: ScopeName, pid: number, resources: Resources | undefined, mountRoot: string, extra: Property[], bus: SystemdBus): Promise<CgroupRecord> {
  const props: Property[] = [
    ["Description", new Variant("s", `mycr container ${name.unit}`)],
    ["Slice", new Variant("s", name.slice)],
    ["Delegate", new Variant("b", true)],
    // Ordered against nothing: neither started late nor stopped early at shutdown.
    ["DefaultDependencies", new Variant("b", false)],
    ["PIDs", new Variant("au", [pid])],
    ...resourceProperties(resources),
    // the config's org.systemd.property.* annotations last, as runc adds them
    ...extra,
  ];
  return withSystemd(async (m) => {
    // A user's manager keeps its units below its own cgroup (user@UID.service's).
    const root = bus === "user" ? await m.rootCgroup() : "/";
    const expected = join(mountRoot, root, expandSlice(name.slice), name.unit);
    const state = await m.activeState(name.unit);
    if (state !== null && state !== "inactive" && state !== "failed") {
      throw new CgroupError(`systemd unit ${name.unit} already exists (${state}): a container needs a scope of its own`);
    }
    if (state === "failed") await m.resetFailed(name.unit);
    await m.startTransient(name.unit, props);
    const where = await m.controlGroup(name.unit);
    if (where && join(mountRoot, where) !== expected) {
      await m.stop(name.unit);
      throw new CgroupError(`systemd put ${name.unit} at ${where}, not where mycr expected it (${expected})`);
    }
    const systemd = { unit: name.unit, slice: name.slice, ...(bus === "user" ? { user: true as const } : {}) };
    return { mode: "v2", dirs: { "": expected }, parents: {}, systemd };
  }, bus);
}

/** `update`: the new limits to systemd (runtime only). */
export async function setScopeResources(unit: string, resources: Resources, bus: SystemdBus): Promise<void> {
  await withSystemd((m) => m.setProperties(unit, resourceProperties(resources)), bus);
}

/** Stops the scope so systemd forgets it and removes its cgroup. */
export async function stopScope(unit: string, bus: SystemdBus): Promise<void> {
  await withSystemd(async (m) => {
    await m.stop(unit);
    await m.resetFailed(unit);
  }, bus);
}
