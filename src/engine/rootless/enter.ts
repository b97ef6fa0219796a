// How an ordinary user's mycr becomes a rootless one, the way podman does it: the
// command starts again inside a user namespace (and a mount namespace of its own) where
// the user is root and its subordinate ids follow; there it does what root's mycr does,
// with its state and storage in the user's directories. Bun is multithreaded, so the
// namespace is made by the single-threaded C child of sys/spawn-namespaced.ts, which
// waits until we have written its id maps and then executes mycr again.
// `exec` joins the user namespace its container was started in instead: its namespaces
// belong to that one, and only its root may enter them.
import { closeSync, openSync } from "node:fs";
import { CLONE, spawnNamespaced, watchChild, type SpawnStep } from "../../sys";
import { forwardSignals } from "../../runtime/signals";
import { selfCommand } from "../../runtime/self";
import { ContainerError } from "../../runtime/errors";
import { rootlessMaps, writeRootlessMaps } from "./id-maps";
import { rootlessRoots } from "./roots";
import { trace } from "../../runtime/trace";
import { StateStore } from "../../runtime/state";
import { isAlive, type ProcessRef } from "../../runtime/procfs";
import { findContainer } from "../containers";

export interface EnterOptions {
  /** mycr's own arguments, as given. */
  args: string[];
  /** A process in the user namespace to join (a container's mycr) instead of a new one. */
  join?: ProcessRef;
  onNotice: (message: string) => void;
}

function environment(state: string, data: string): string[] {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.MYCR_STATE = state;
  env.MYCR_ROOT = data;
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** The user namespace of `ref`, checked to be still that process's once the fd holds it. */
function openUserNamespace(ref: ProcessRef): number {
  let fd: number;
  try {
    fd = openSync(`/proc/${ref.pid}/ns/user`, "r");
  } catch (e) {
    throw new ContainerError(`the container's user namespace (/proc/${ref.pid}/ns/user): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!isAlive(ref)) {
    closeSync(fd);
    throw new ContainerError("the container stopped meanwhile");
  }
  return fd;
}

/**
 * A process in the user namespace container `ref` runs in: the mycr that owns it (a
 * foreground run, or a detached container's monitor), which made that namespace.
 * undefined when the container is not running: the command then says so itself.
 */
export function userNamespaceOf(ref: string): ProcessRef | undefined {
  const roots = rootlessRoots(process.env, process.getuid!());
  process.env.MYCR_STATE = roots.state; // the store and the records are found through these
  process.env.MYCR_ROOT = roots.data;
  let view;
  try {
    view = findContainer(new StateStore(roots.state), ref);
  } catch {
    return undefined;
  }
  return view.state === "running" || view.state === "paused" ? view.runtime?.owner : undefined;
}

/** Runs this mycr command again as root of a user namespace; returns its exit status. */
export async function runInUserNamespace(opts: EnterOptions): Promise<number> {
  const uid = process.getuid!();
  const roots = rootlessRoots(process.env, uid);
  const maps = opts.join === undefined ? rootlessMaps(uid, process.getgid!()) : null;
  if (maps?.notice) opts.onNotice(maps.notice);
  const command = selfCommand(...opts.args);
  const userns = opts.join !== undefined ? openUserNamespace(opts.join) : -1;
  const steps: SpawnStep[] =
    userns >= 0
      ? [{ op: "setns", fd: userns, nstype: CLONE.NEWUSER, what: "the container's user namespace" }, { op: "unshare", flags: CLONE.NEWNS }]
      : [{ op: "sync" }];
  const signals = forwardSignals(); // before the child exists: a Ctrl-C now is not lost
  try {
    let pid: number;
    try {
      pid = spawnNamespaced({
        // CLONE_VM: the child shares our memory until it execs (no copy of Bun's page tables)
        cloneFlags: CLONE.VM | (userns >= 0 ? 0 : CLONE.NEWUSER | CLONE.NEWNS),
        steps,
        path: command[0]!,
        argv: command,
        env: environment(roots.state, roots.data),
        fds: [0, 1, 2],
        onSync: (child) => {
          trace("rootless: namespace made");
          writeRootlessMaps(child, maps!);
          trace("rootless: maps written");
        },
      });
    } finally {
      if (userns >= 0) closeSync(userns);
    }
    trace("rootless: second mycr started");
    const child = watchChild(pid);
    signals.attach(pid);
    const status = await child.exited;
    trace("rootless: second mycr exited");
    return status;
  } finally {
    signals.dispose();
  }
}
