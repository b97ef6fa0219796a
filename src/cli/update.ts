import { readFileSync } from "node:fs";
import { RESOURCE_ARGS, resourcesFromArgs } from "./resource-args";
import { ContainerError } from "../runtime/errors";
import { updateContainer } from "../runtime/update";
import { StateStore } from "../runtime/state";
import { parseSpec } from "../spec/validate";
import type { Resources } from "../spec/types";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { requireId } from "./require-id";
import { resolveContainerId } from "../engine/containers";

/** --resources FILE (or - for stdin): a linux.resources object, validated like config.json's. */
function resourcesFromFile(path: string): Resources {
  const text = readFileSync(path === "-" ? 0 : path, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ContainerError(`--resources ${path}: not valid JSON: ${(e as Error).message}`);
  }
  const probe = { ociVersion: "1.2.0", root: { path: "/" }, linux: { resources: json } };
  return parseSpec(JSON.stringify(probe)).linux!.resources!;
}

export default defineMycrCommand({
  meta: { name: "update", description: "Change the resource limits of a running container" },
  args: {
    resources: { type: "string", alias: "r", description: "JSON file with linux.resources (- for stdin)", valueHint: "FILE" },
    ...RESOURCE_ARGS,
    id: { type: "positional", description: "Container id" },
  },
  needsRoot: true,
  // where a rootless container has no cgroup (none delegated), the cgroup refuses in one line
  rootless: "enter",
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const ref = requireId(args, "update");
    // The input is checked before the container is looked up: a bad value is reported as such.
    const file = single(args.resources);
    const resources = file
      ? resourcesFromFile(file)
      : resourcesFromArgs(args);
    if (!resources) throw new ContainerError("update: give --resources FILE or at least one limit flag");
    await updateContainer(store, resolveContainerId(store, ref), resources);
    return 0;
  },
});
