// The systemd cgroup driver: the container's cgroup is a transient scope that systemd
// creates (with Delegate=yes, so its files are ours to write) around the container's
// init. The limits systemd knows go to it as properties; then everything is written to
// the scope's cgroup files as the v2 driver does, for the settings systemd has no
// property for and the exact values (systemd rounds the CPU quota).
import type { Resources } from "../../spec/types";
import { removeDir } from "../common";
import { CgroupError, type Cgroup, type CgroupRecord, type CgroupStats } from "../types";
import { V2Cgroup } from "../v2";
import type { SystemdBus } from "./manager";
import type { Property } from "./properties";
import type { ScopeName } from "./unit-name";

/** The D-Bus conversation (~34 KB with the client), loaded by the steps that talk to systemd. */
const scopeBus = () => import("./scope-bus");

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
    const cg = new SystemdCgroup(await (await scopeBus()).startScope(name, pid, resources, mountRoot, extra, bus), mountRoot);
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
    await (await scopeBus()).setScopeResources(this.unit, resources, this.bus);
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
    await (await scopeBus()).stopScope(this.unit, this.bus);
    await removeDir(this.files.dir);
  }
}
