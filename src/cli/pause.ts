import { openCgroup } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import { containerStatus, StateStore, type ContainerRecord } from "../runtime/state";
import { defineMycrCommand, type GlobalOptions } from "./command";
import { requireId } from "./require-id";
import { loadRuntime } from "../engine/containers";

function runningRecord(global: GlobalOptions, ref: string, want: string): ContainerRecord {
  const record = loadRuntime(new StateStore(global.stateRoot), ref);
  const status = containerStatus(record);
  if (status !== want || !record.cgroup) throw new ContainerError(`container ${ref} is ${status}, not ${want}`);
  return record;
}

export const pause = defineMycrCommand({
  meta: { name: "pause", description: "Freeze every process of a container" },
  args: { id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  // where a rootless container has no cgroup (none delegated), the cgroup refuses in one line
  rootless: "enter",
  run(args, global) {
    openCgroup(runningRecord(global, requireId(args, "pause"), "running").cgroup!).freeze();
    return 0;
  },
});

export const resume = defineMycrCommand({
  meta: { name: "resume", description: "Thaw a paused container" },
  args: { id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  // where a rootless container has no cgroup (none delegated), the cgroup refuses in one line
  rootless: "enter",
  run(args, global) {
    openCgroup(runningRecord(global, requireId(args, "resume"), "paused").cgroup!).thaw();
    return 0;
  },
});

export default pause;
