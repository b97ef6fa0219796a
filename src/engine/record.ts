// The engine's record of a container it made: MYCR_ROOT/containers/<id>/container.json.
// It exists from the first moment (before any mount), so `mycr gc` can always tell
// whose leftovers a directory holds.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, type ProcessRef } from "../runtime/procfs";
import { makeDirAtomic } from "../runtime/atomic";
import { containerDir, makeContainersDir } from "./paths";
import { writeFileAtomic } from "../runtime/atomic";
import type { CniConflist, CniResult } from "../net/cni";
import type { PortMapping } from "../net/ports";

export interface EngineRecord {
  id: string;
  created: string;
  /** The mycr process that will tear this container down. */
  owner: ProcessRef;
  /** Keep the upper dir after exit (--keep). */
  keep: boolean;
  /** The CNI network it is attached to, and what ADD returned: what gc needs for DEL. */
  network?: {
    list: CniConflist;
    result: CniResult | null;
    netns: string;
    ports: PortMapping[];
    /** The names peers on a user network resolve it by (network-hosts.ts). */
    names?: string[];
    /** Set just before CNI DEL: peers no longer list it. */
    leaving?: boolean;
  };
  /** Host ports a rootless container's pasta or slirp4netns publishes (-p): no CNI network holds them. */
  pastaPorts?: PortMapping[];
  /** --name; later commands (ps, logs) will accept it in place of the id. */
  name?: string;
  /** --image: the image's name, for ps. */
  image?: string;
  /** --image: the image's id, the parent of what `commit` makes of the container. */
  imageId?: string;
  /** --label KEY=VALUE, over the image's labels: ps -f label=, inspect's Config.Labels. */
  labels?: Record<string, string>;
}

/** Creates the container's directory with its record already inside (see makeDirAtomic). */
export function writeRecord(record: EngineRecord, root?: string): string {
  const dir = containerDir(record.id, root);
  makeContainersDir(root);
  const data = JSON.stringify(record, null, 2);
  try {
    makeDirAtomic(dir, { "container.json": data });
  } catch (e) {
    // A detached container's directory exists already (its monitor's record is there);
    // a restart writes the record again. Anything else owning the directory is an error.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !existsSync(join(dir, "monitor.json"))) throw e;
    writeFileAtomic(join(dir, "container.json"), data);
  }
  return dir;
}

export function readRecord(dir: string): EngineRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, "container.json"), "utf8")) as EngineRecord;
  } catch {
    return null;
  }
}

export function ownerAlive(record: EngineRecord | null): boolean {
  return record !== null && isAlive(record.owner);
}

/** Rewrites the record of a container whose directory exists (e.g. once it has a network). */
export function updateRecord(record: EngineRecord, root?: string): void {
  writeFileAtomic(join(containerDir(record.id, root), "container.json"), JSON.stringify(record, null, 2));
}

/** The host ports the container publishes while it runs, through CNI or pasta. */
export function recordPorts(record: EngineRecord): PortMapping[] {
  return record.network?.ports ?? record.pastaPorts ?? [];
}
