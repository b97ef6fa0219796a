// `update`: new limits for a live container, written to its cgroup and its record.
import { openCgroup } from "../cgroups";
import { withDefaultDevices } from "../security/devices";
import type { Resources } from "../spec/types";
import { ContainerError } from "./errors";
import { containerStatus, type StateStore } from "./state";

export async function updateContainer(store: StateStore, id: string, resources: Resources): Promise<void> {
  const record = store.load(id);
  const status = containerStatus(record);
  if (status === "stopped" || !record.cgroup) throw new ContainerError(`cannot update container ${id}: it is ${status}`);
  await openCgroup(record.cgroup).update(withDefaultDevices(resources)!);
  const linux = (record.spec.linux ??= {});
  const merged: Resources = { ...linux.resources };
  for (const [key, value] of Object.entries(resources) as Array<[keyof Resources, unknown]>) {
    const old = merged[key];
    (merged as Record<string, unknown>)[key] =
      typeof value === "object" && value !== null && !Array.isArray(value) && typeof old === "object" ? { ...old, ...value } : value;
  }
  linux.resources = merged;
  store.save(record);
}
