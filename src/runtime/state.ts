// The runtime's record of one container: MYCR_STATE/<id>/state.json.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OCI_VERSION, type Spec, type State } from "../spec/types";
import type { CgroupRecord } from "../cgroups/types";
import type { CgroupManager } from "../cgroups";
import { cgroupFrozen } from "../cgroups/existing";
import { makeDirAtomic, makePrivateDir, writeFileAtomic } from "./atomic";
import { ContainerError } from "./errors";
import { containerStateDir, EXEC_FIFO, stateRoot } from "./paths";
import { isAlive, processRef, type ProcessRef } from "./procfs";

export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  created: string;
  spec: Spec;
  /** init, later the user's process; absent until spawned. */
  init?: ProcessRef;
  /** A created container's init is alive but not yet the user's program; `run` sets this once it is. */
  started: boolean;
  /**
   * Made by `create` with runc's exec fifo in its state directory: `start` removes the
   * fifo and writes nothing else, and a record loaded without its fifo counts as started,
   * as runc's "created" is its fifo's being there. Absent from records an earlier mycr
   * wrote, whose `start` sets `started` itself.
   */
  execFifo?: boolean;
  /**
   * The mycr process responsible for this container's cleanup (a foreground `run`).
   * When it is gone and the container is not running, `mycr gc` may remove everything.
   */
  owner?: ProcessRef;
  /**
   * Without an owner (an OCI `create`): the mycr process creating the container, until
   * init reports it ready. Set and gone means the create died half-way, and `mycr gc`
   * (or the next container's start) removes it; a created container has none.
   */
  creator?: ProcessRef;
  /** The container's cgroup, once created. */
  cgroup?: CgroupRecord;
}

/** MYCR_STATE/<id>/claim.json: written with the directory, before anything else exists. */
export interface Claim {
  owner: ProcessRef;
  /** The spec's linux.cgroupsPath, to find a cgroup created before the record was saved. */
  cgroupsPath?: string;
  /** The cgroup is a systemd scope (--systemd-cgroup). */
  systemd?: boolean;
  /** ... of the user's manager (a caller without root over the host): none of ours to remove. */
  user?: boolean;
}

/** The cgroup manager a claim was made for, to find a cgroup the record never named. */
export function claimedManager(claim: Claim | null): CgroupManager {
  if (!claim?.systemd) return "cgroupfs";
  return claim.user ? "systemd-user" : "systemd";
}

const CLAIM_FILE = "claim.json";

export class ContainerNotFound extends ContainerError {
  constructor(id: string) {
    super(`container "${id}" does not exist`);
  }
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isContainerId(name: string): boolean {
  return ID_PATTERN.test(name);
}

export function validateId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new Error(`invalid container id "${id}": use letters, digits, '_', '.', '-' (at most 128)`);
  }
}

export class StateStore {
  constructor(readonly root: string = stateRoot()) {}

  dir(id: string): string {
    return containerStateDir(id, this.root);
  }

  /**
   * Claims the id: fails if a container with it exists. The directory appears at once
   * with claim.json naming the claiming process (and where the cgroup will go), so a
   * mycr killed before save() leaves state that gc and delete can attribute and undo.
   * The record follows with save().
   */
  claim(id: string, cgroupsPath?: string, manager: CgroupManager = "cgroupfs"): void {
    validateId(id);
    // Others may pass through (the exec FIFO's path) but not list the containers.
    makePrivateDir(this.root, 0o711);
    const owner = processRef(process.pid);
    const claim: Claim = { owner: owner ?? { pid: process.pid, startTime: 0 }, ...(cgroupsPath ? { cgroupsPath } : {}), ...(manager === "systemd" ? { systemd: true } : {}), ...(manager === "systemd-user" ? { systemd: true, user: true } : {}) };
    try {
      makeDirAtomic(this.dir(id), { [CLAIM_FILE]: JSON.stringify(claim) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new ContainerError(`container "${id}" already exists`);
      throw e;
    }
  }

  /** Who claimed a directory that has no record yet, or null (none, or written by an older mycr). */
  readClaim(id: string): Claim | null {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), CLAIM_FILE), "utf8")) as Claim;
    } catch {
      return null;
    }
  }

  save(record: ContainerRecord): void {
    writeFileAtomic(join(this.dir(record.id), "state.json"), JSON.stringify(record));
  }

  load(id: string): ContainerRecord {
    validateId(id);
    try {
      const record = JSON.parse(readFileSync(join(this.dir(id), "state.json"), "utf8")) as ContainerRecord;
      if (record.execFifo && !record.started && !existsSync(join(this.dir(id), EXEC_FIFO))) record.started = true;
      return record;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new ContainerNotFound(id);
      throw e;
    }
  }

  /** Loads a record, or null when the directory exists without a (complete) state file. */
  tryLoad(id: string): ContainerRecord | null {
    try {
      return this.load(id);
    } catch {
      return null;
    }
  }

  ids(): string[] {
    return this.names().filter(isContainerId);
  }

  /** Everything in the state directory: container ids and staging directories (one readdir). */
  names(): string[] {
    try {
      return readdirSync(this.root);
    } catch {
      return [];
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}

export type Status = State["status"] | "paused";

export function containerStatus(record: ContainerRecord): Status {
  if (!record.init) return "creating";
  if (!isAlive(record.init)) return "stopped";
  if (record.cgroup && cgroupFrozen(record.cgroup)) return "paused";
  return record.started ? "running" : "created";
}

/** The runtime-spec state object (`mycr state`). */
export function ociState(record: ContainerRecord): Omit<State, "status"> & { status: Status } {
  const status = containerStatus(record);
  const state: Omit<State, "status"> & { status: Status } = { ociVersion: OCI_VERSION, id: record.id, status, bundle: record.bundle };
  if (record.init && status !== "stopped") state.pid = record.init.pid;
  if (record.spec.annotations) state.annotations = record.spec.annotations;
  return state;
}
