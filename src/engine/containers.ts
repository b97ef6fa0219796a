// One view of every container, whichever face made it: detached ones (their monitor's
// record), foreground runs and OCI containers (the runtime's state store). Commands
// find a container by full id, name, or unique id prefix through here.
import { existsSync, readdirSync } from "node:fs";
import { cgroupFrozen } from "../cgroups/existing";
import { ContainerError } from "../runtime/errors";
import { ContainerNotFound, containerStatus, isContainerId, type ContainerRecord, type StateStore } from "../runtime/state";
import { effectiveStatus, readDetached, type DetachedRecord } from "./detached-record";
import { containerDir, containersDir } from "./paths";
import { ownerAlive, readRecord, type EngineRecord } from "./record";
import { humanDuration } from "./duration";
import type { PortMapping } from "../net/ports";
import { livePorts } from "./ports";
import { overlayLowers } from "./overlay-lowers";

export type ContainerState = "created" | "running" | "paused" | "restarting" | "exited" | "dead";

export interface ContainerView {
  id: string;
  name?: string;
  image: string;
  command: string[];
  created: string;
  state: ContainerState;
  /** docker's words: "Up 3 minutes", "Exited (137) 5 seconds ago". */
  status: string;
  /** Host pid of the container's PID 1 while it runs. */
  pid?: number;
  exitCode?: number;
  /** Host ports it publishes while it runs (-p, -P). */
  ports: PortMapping[];
  /** --label and the image's labels. */
  labels: Record<string, string>;
  detached?: DetachedRecord;
  runtime?: ContainerRecord;
  engine?: EngineRecord;
}

function frozen(rt: ContainerRecord | undefined): boolean {
  try {
    return !!rt?.cgroup && cgroupFrozen(rt.cgroup);
  } catch {
    return false;
  }
}

function statusText(state: ContainerState, v: { exitCode?: number; startedAt?: string; finishedAt?: string; created: string }, now: number): string {
  const since = (t: string | undefined) => humanDuration(now - Date.parse(t ?? v.created));
  switch (state) {
    case "running":
      return `Up ${since(v.startedAt)}`;
    case "paused":
      return `Up ${since(v.startedAt)} (Paused)`;
    case "restarting":
      return `Restarting (${v.exitCode ?? 0}) ${since(v.finishedAt)} ago`;
    case "exited":
      return v.exitCode === undefined ? "Exited" : `Exited (${v.exitCode}) ${since(v.finishedAt)} ago`;
    case "dead":
      return "Dead";
    default:
      return "Created";
  }
}

/** A foreground run's lower layer, from its overlay root mount ("host" for the host's /). */
function lowerOf(rt: ContainerRecord): string {
  const lowers = overlayLowers(rt.spec.mounts);
  if (lowers.length === 0) return rt.rootfs;
  return lowers.length === 1 && lowers[0] === "/" ? "host" : lowers.join(":");
}

function viewOf(id: string, store: StateStore, now: number): ContainerView | null {
  const detached = readDetached(id) ?? undefined;
  const runtime = store.tryLoad(id) ?? undefined;
  const engine = readRecord(containerDir(id)) ?? undefined;
  const base = {
    id,
    ports: livePorts(engine),
    labels: engine?.labels ?? {},
    ...(detached?.name ?? engine?.name ? { name: detached?.name ?? engine?.name } : {}),
    ...(detached ? { detached } : {}),
    ...(runtime ? { runtime } : {}),
    ...(engine ? { engine } : {}),
  };
  if (detached) {
    let state: ContainerState = effectiveStatus(detached);
    if (state === "running" && frozen(runtime)) state = "paused";
    const pid = state === "running" || state === "paused" ? (detached.pid?.pid ?? runtime?.init?.pid) : undefined;
    return {
      ...base,
      image: detached.image,
      command: detached.command,
      created: detached.created,
      state,
      status: statusText(state, detached, now),
      ...(pid !== undefined ? { pid } : {}),
      ...(detached.exitCode !== undefined ? { exitCode: detached.exitCode } : {}),
    };
  }
  if (runtime) {
    const s = containerStatus(runtime);
    const state: ContainerState = s === "stopped" ? "exited" : s === "creating" ? "created" : s;
    const image = engine ? (engine.image ?? lowerOf(runtime)) : runtime.rootfs;
    return {
      ...base,
      image,
      command: runtime.spec.process?.args ?? [],
      created: runtime.created,
      state,
      status: statusText(state, { created: runtime.created }, now),
      ...(state === "running" || state === "paused" ? { pid: runtime.init!.pid } : {}),
    };
  }
  if (engine && ownerAlive(engine)) {
    return { ...base, image: "", command: [], created: engine.created, state: "created", status: "Created" };
  }
  return null;
}

/** Every container id either face knows of. */
function allIds(store: StateStore): Set<string> {
  const ids = new Set(store.ids());
  try {
    for (const id of readdirSync(containersDir())) ids.add(id);
  } catch {
    // no engine containers yet
  }
  return ids;
}

/** The views of `ids` that exist, newest first. */
function viewsOf(ids: string[], store: StateStore, now = Date.now()): ContainerView[] {
  return ids.flatMap((id) => viewOf(id, store, now) ?? []).sort((a, b) => b.created.localeCompare(a.created));
}

export function listContainers(store: StateStore): ContainerView[] {
  return viewsOf([...allIds(store)], store);
}

/** The name a container goes by, from its small records (not the runtime's, which holds the whole spec). */
function nameOf(id: string): string | undefined {
  return readDetached(id)?.name ?? readRecord(containerDir(id))?.name;
}

/**
 * A container by full id, name, or unique id prefix (in that order, as docker). Only the
 * candidates get a view: exec, kill, stop... of one container among many read the others'
 * names, not their specs and states.
 */
export function findContainer(store: StateStore, ref: string): ContainerView {
  const now = Date.now();
  const ids = [...allIds(store)];
  const views = (matching: string[]) => viewsOf(matching, store, now);
  const exact = views(ids.filter((id) => id === ref))[0] ?? views(ids.filter((id) => nameOf(id) === ref))[0];
  if (exact) return exact;
  const matches = ref.length > 0 ? views(ids.filter((id) => id.startsWith(ref))) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new ContainerError(`"${ref}" matches ${matches.length} containers: give more of the id`);
  throw new ContainerNotFound(ref);
}

/**
 * The id `ref` means and the runtime's record of it, for exec, on its start path: the
 * record is read once and no view is built (a view reads the container's other records,
 * its ports and its cgroup: ~2 ms of exec's ~60). Taken when exactly one container is
 * what `ref` names (its full id, else its name, else its id's prefix, in findContainer's
 * order) and it has a record; anything else is findContainer's to answer, which also
 * words every error. `record` is null for a container without a process: `view` then
 * says what it is.
 */
export function findRuntime(store: StateStore, ref: string): { id: string; record: ContainerRecord } | { id: string; record: null; view: ContainerView } {
  const ids = [...allIds(store)];
  const named = ids.includes(ref) ? [ref] : ids.filter((id) => nameOf(id) === ref);
  const candidates = named.length > 0 || ref.length === 0 ? named : ids.filter((id) => id.startsWith(ref));
  const record = candidates.length === 1 ? store.tryLoad(candidates[0]!) : null;
  if (record) return { id: record.id, record };
  const view = findContainer(store, ref);
  return view.runtime ? { id: view.id, record: view.runtime } : { id: view.id, record: null, view };
}

/**
 * The full id `ref` means, for every command that takes a container: a full id as it is
 * (OCI clients such as podman and containerd pass full ids, and a container still being
 * created has no view yet), otherwise a name or a unique id prefix, as findContainer.
 */
export function resolveContainerId(store: StateStore, ref: string): string {
  if (isContainerId(ref) && (existsSync(store.dir(ref)) || existsSync(containerDir(ref)))) return ref;
  return findContainer(store, ref).id;
}

/**
 * The runtime's record of the container `ref` means (id, name or prefix). One that has
 * none (a detached container that exited) is named with its state, not called missing.
 */
export function loadRuntime(store: StateStore, ref: string): ContainerRecord {
  const id = resolveContainerId(store, ref);
  const record = store.tryLoad(id);
  if (record) return record;
  const view = refresh(store, id);
  if (view) throw new ContainerError(`container ${ref} is ${view.state}: it has no process${view.detached ? ` (mycr start ${ref} runs it again)` : ""}`);
  return store.load(id); // the store's own error
}

/** A container's view again (after a change), or null once it is gone. */
export function refresh(store: StateStore, id: string): ContainerView | null {
  return viewOf(id, store, Date.now());
}
