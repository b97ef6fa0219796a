// The systemd cgroup driver: the container's cgroup is a transient scope that systemd
// creates (with Delegate=yes, so its files are ours to write) around the container's
// init. The limits systemd knows go to it as properties; then everything is written to
// the scope's cgroup files as the v2 driver does, for the settings systemd has no
// property for and the exact values (systemd rounds the CPU quota).
import { join } from "node:path";
import type { Resources } from "../../spec/types";
import { removeDir } from "../common";
import { CgroupError, type Cgroup, type CgroupRecord, type CgroupStats } from "../types";
import { V2Cgroup } from "../v2";
import { withSystemd, type SystemdBus } from "./manager";
import { resourceProperties, type Property } from "./properties";
import { Variant } from "./dbus-marshal";
import { expandSlice, type ScopeName } from "./unit-name";

export class SystemdCgroup implements Cgroup {
  private readonly files: V2Cgroup;

  constructor(
    readonly record: CgroupRecord,
    mountRoot: string,
  ) {
    if (!record.systemd) throw new CgroupError("not a systemd cgroup record");
    this.files = new V2Cgroup(record, mountRoot);
  }

  get unit(): string {
    return this.record.systemd!.unit;
  }

  /** The bus of the manager that owns the scope: the user's for a rootless container. */
  private get bus(): SystemdBus {
    return this.record.systemd!.user ? "user" : "system";
  }

  /**
   * Starts the scope around `pid` with the limits systemd manages and the `extra`
   * properties (from annotations), waits until it is active, then writes all of
   * `resources` to its files. Stops it again if any of that fails.
   */
  static async create(name: ScopeName, pid: number, resources: Resources | undefined, mountRoot: string, extra: Property[] = [], bus: SystemdBus = "system"): Promise<SystemdCgroup> {
    const props: Property[] = [
      ["Description", new Variant("s", `mycr container ${name.unit}`)],
      ["Slice", new Variant("s", name.slice)],
      ["Delegate", new Variant("b", true)],
      // Ordered against nothing: neither started late nor stopped early at shutdown.
      ["DefaultDependencies", new Variant("b", false)],
      ["PIDs", new Variant("au", [pid])],
      ...resourceProperties(resources),
      // the config's org.systemd.property.* annotations last, as runc adds them
      ...extra,
    ];
    const cg = await withSystemd(async (m) => {
      // A user's manager keeps its units below its own cgroup (user@UID.service's).
      const root = bus === "user" ? await m.rootCgroup() : "/";
      const expected = join(mountRoot, root, expandSlice(name.slice), name.unit);
      const state = await m.activeState(name.unit);
      if (state !== null && state !== "inactive" && state !== "failed") {
        throw new CgroupError(`systemd unit ${name.unit} already exists (${state}): a container needs a scope of its own`);
      }
      if (state === "failed") await m.resetFailed(name.unit);
      await m.startTransient(name.unit, props);
      const where = await m.controlGroup(name.unit);
      if (where && join(mountRoot, where) !== expected) {
        await m.stop(name.unit);
        throw new CgroupError(`systemd put ${name.unit} at ${where}, not where mycr expected it (${expected})`);
      }
      const systemd = { unit: name.unit, slice: name.slice, ...(bus === "user" ? { user: true as const } : {}) };
      return new SystemdCgroup({ mode: "v2", dirs: { "": expected }, parents: {}, systemd }, mountRoot);
    }, bus);
    try {
      if (resources) cg.files.apply(resources);
      return cg;
    } catch (e) {
      await cg.destroy().catch(() => undefined);
      throw e;
    }
  }

  apply(resources: Resources): void {
    // The files only (the interface is synchronous); update() also tells systemd, so
    // that it keeps these values.
    this.files.apply(resources);
  }

  /** `update`: the new limits to systemd (runtime only), then to the files. */
  async update(resources: Resources): Promise<void> {
    await withSystemd((m) => m.setProperties(this.unit, resourceProperties(resources)), this.bus);
    this.files.apply(resources);
  }

  addProcess(pid: number): void {
    this.files.addProcess(pid);
  }

  pids(): number[] {
    return this.files.pids();
  }

  stats(): CgroupStats {
    return this.files.stats();
  }

  oomKills(): number {
    return this.files.oomKills();
  }

  freeze(): void {
    this.files.freeze();
  }

  frozen(): boolean {
    return this.files.frozen();
  }

  thaw(): void {
    this.files.thaw();
  }

  /**
   * Kills what is left through the cgroup (at once: a scope's own stop would send
   * SIGTERM and wait up to 90 s), then stops the scope so systemd forgets it and
   * removes its cgroup; removes the directory itself if systemd did not.
   */
  async destroy(): Promise<void> {
    await this.files.kill();
    await withSystemd(async (m) => {
      await m.stop(this.unit);
      await m.resetFailed(this.unit);
    }, this.bus);
    await removeDir(this.files.dir);
  }
}
