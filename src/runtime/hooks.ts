// OCI hooks: programs run at points of a container's life, with its state on stdin.
// Who runs which: the runtime runs prestart/createRuntime (after init exists in its
// namespaces, before it builds the root), poststart and poststop; init runs
// createContainer (before pivot_root, so paths resolve on the host) and startContainer
// (after start, inside the container's root).
import type { Hook, Spec } from "../spec/types";
import { OCI_VERSION } from "../spec/types";
import { ContainerError } from "./errors";

export type HookKind = "prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop";

export interface HookState {
  id: string;
  pid?: number;
  bundle: string;
  status: "creating" | "created" | "running" | "stopped";
}

function runOne(kind: HookKind, hook: Hook, state: string): string | null {
  const args = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  let r;
  try {
    r = Bun.spawnSync([hook.path, ...args.slice(1)], {
      argv0: args[0],
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
      stdin: new TextEncoder().encode(state),
      stdout: "pipe",
      stderr: "pipe",
      ...(hook.timeout ? { timeout: hook.timeout * 1000, killSignal: "SIGKILL" } : {}),
    });
  } catch (e) {
    return `${kind} hook ${hook.path}: ${(e as Error).message}`;
  }
  if (r.exitCode === 0) return null;
  const why = r.exitCode === null ? (hook.timeout ? `timed out after ${hook.timeout}s` : `killed by ${r.signalCode}`) : `exit status ${r.exitCode}`;
  const detail = r.stderr.toString().trim().split("\n")[0];
  return `${kind} hook ${hook.path} failed: ${why}${detail ? `: ${detail}` : ""}`;
}

/**
 * Runs the spec's hooks of one kind in order. Hooks before the process starts are
 * fatal (the container must not start); poststart and poststop only warn.
 * Returns the warnings.
 */
export function runHooks(kind: HookKind, spec: Spec, state: HookState): string[] {
  const hooks = spec.hooks?.[kind] ?? [];
  if (hooks.length === 0) return [];
  const stateJson = JSON.stringify({ ociVersion: OCI_VERSION, ...state, annotations: spec.annotations ?? {} });
  const warnings: string[] = [];
  for (const hook of hooks) {
    const failure = runOne(kind, hook, stateJson);
    if (!failure) continue;
    if (kind === "poststart" || kind === "poststop") warnings.push(failure);
    else throw new ContainerError(failure);
  }
  return warnings;
}
