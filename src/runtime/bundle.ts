// Reading an OCI bundle: DIR/config.json, validated.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseSpec, SpecError } from "../spec/validate";
import type { Spec } from "../spec/types";
import { ContainerError } from "./errors";

export function loadBundle(dir: string): { bundle: string; spec: Spec } {
  const bundle = resolve(dir);
  let text: string;
  try {
    text = readFileSync(join(bundle, "config.json"), "utf8");
  } catch {
    throw new ContainerError(`${bundle}: no config.json in this bundle (mycr spec writes one)`);
  }
  try {
    const spec = parseSpec(text);
    if (!spec.process) throw new SpecError("process", "is required to create a container");
    return { bundle, spec };
  } catch (e) {
    if (e instanceof SpecError) throw new ContainerError(e.message);
    throw e;
  }
}
