// OCI bundles for the runtime-face tests: `mycr spec`'s default config, adjusted.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../../src/spec/types";
import { WORK } from "./env";
import { mycr } from "./mycr";
import { busyboxRootfs } from "./rootfs";

let counter = 0;

/** A bundle running `args` on the shared busybox rootfs (read-only, so tests cannot alter it). */
export async function makeBundle(args: string[], adjust: (spec: Spec) => void = () => {}): Promise<string> {
  const dir = join(WORK, "bundles", `${process.pid}-${++counter}`);
  rmSync(dir, { recursive: true, force: true }); // an earlier run's, whose process had this pid
  mkdirSync(dir, { recursive: true });
  const r = await mycr(["spec", "--bundle", dir]);
  if (r.exitCode !== 0) throw new Error(`mycr spec failed: ${r.stderr}`);
  const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Spec;
  spec.root = { path: busyboxRootfs(), readonly: true };
  spec.process!.terminal = false;
  spec.process!.args = args;
  adjust(spec);
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec, null, 2));
  return dir;
}

export function uniqueId(name: string): string {
  return `${name}-${process.pid}-${++counter}`;
}

/**
 * Runs `fn` with a detached OCI container (`run -d --bundle`) and its init's host pid;
 * the container is deleted afterwards, whatever happens.
 */
export async function withDetached<T>(bundle: string, name: string, fn: (id: string, pid: number) => Promise<T>): Promise<T> {
  const id = uniqueId(name);
  await mycr(["run", "-d", "--bundle", bundle, id], { leavesContainer: true });
  try {
    const state = JSON.parse((await mycr(["state", id])).stdout) as { pid: number };
    return await fn(id, state.pid);
  } finally {
    await mycr(["delete", "-f", id]);
  }
}
