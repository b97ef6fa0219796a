// cgroup v1: one directory per hierarchy (memory, cpu,cpuacct, cpuset, pids, ...), named
// ones without controllers (name=systemd) included, so the container sees none of the host's.
// On hybrid hosts the container is also placed in the (controller-less) cgroup2 tree,
// so tools reading /proc/PID/cgroup's "0::" line find it there too.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Resources } from "../spec/types";
import { makeDirs, noteMadeParents, removeDir, waitEmpty } from "./common";
import { deviceRuleLine, limitValue } from "./convert";
import { readCgroupFile, readKeyed, readNumber, readPids, writeCgroupFile } from "./files";
import { CgroupError, type Cgroup, type CgroupRecord, type CgroupStats } from "./types";

export class V1Cgroup implements Cgroup {
  constructor(readonly record: CgroupRecord) {}

  /** The directory of the hierarchy that has `controller`, if the host has it. */
  private dir(controller: string): string | null {
    for (const [key, dir] of Object.entries(this.record.dirs)) {
      if (key.split(",").includes(controller)) return dir;
    }
    return null;
  }

  private need(controller: string, field: string): string {
    const dir = this.dir(controller);
    if (!dir) throw new CgroupError(`${field} needs the ${controller} controller, not enabled on this host`);
    return dir;
  }

  create(): void {
    for (const [key, dir] of Object.entries(this.record.dirs)) {
      const created = makeDirs(dir);
      noteMadeParents(this.record, key, dir, created);
      // A new cpuset cgroup starts with no CPUs and no memory nodes: inherit the parent's.
      if (this.dir("cpuset") === dir) {
        for (const d of created) {
          for (const file of ["cpuset.cpus", "cpuset.mems"]) {
            if (!readCgroupFile(d, file)) writeCgroupFile(d, file, readCgroupFile(join(d, ".."), file) ?? "");
          }
        }
      }
    }
  }

  apply(r: Resources): void {
    const mem = r.memory;
    if (mem) {
      const dir = this.need("memory", "linux.resources.memory");
      const limit = limitValue(mem.limit);
      if (limit !== null) writeCgroupFile(dir, "memory.limit_in_bytes", limit === "max" ? -1 : limit);
      if (mem.swap !== undefined) {
        const memswFile = existsSync(join(dir, "memory.memsw.limit_in_bytes"));
        // swap == limit means "no swap": only enforceable with swap accounting, harmless without.
        if (memswFile) writeCgroupFile(dir, "memory.memsw.limit_in_bytes", mem.swap < 0 ? -1 : mem.swap);
        else if (mem.swap !== mem.limit) {
          throw new CgroupError("linux.resources.memory.swap needs swap accounting (boot with swapaccount=1)");
        }
      }
      if (mem.reservation !== undefined) writeCgroupFile(dir, "memory.soft_limit_in_bytes", mem.reservation < 0 ? -1 : mem.reservation);
      if (mem.swappiness !== undefined) writeCgroupFile(dir, "memory.swappiness", mem.swappiness);
      if (mem.disableOOMKiller) writeCgroupFile(dir, "memory.oom_control", 1);
    }
    const cpu = r.cpu;
    if (cpu) {
      if (cpu.shares !== undefined || cpu.quota !== undefined || cpu.period !== undefined) {
        const dir = this.need("cpu", "linux.resources.cpu");
        if (cpu.shares !== undefined) writeCgroupFile(dir, "cpu.shares", cpu.shares);
        if (cpu.period !== undefined) writeCgroupFile(dir, "cpu.cfs_period_us", cpu.period);
        if (cpu.quota !== undefined) writeCgroupFile(dir, "cpu.cfs_quota_us", cpu.quota);
        if (cpu.burst !== undefined) writeCgroupFile(dir, "cpu.cfs_burst_us", cpu.burst);
        if (cpu.realtimePeriod !== undefined) writeCgroupFile(dir, "cpu.rt_period_us", cpu.realtimePeriod);
        if (cpu.realtimeRuntime !== undefined) writeCgroupFile(dir, "cpu.rt_runtime_us", cpu.realtimeRuntime);
      }
      if (cpu.cpus) writeCgroupFile(this.need("cpuset", "linux.resources.cpu.cpus"), "cpuset.cpus", cpu.cpus);
      if (cpu.mems) writeCgroupFile(this.need("cpuset", "linux.resources.cpu.mems"), "cpuset.mems", cpu.mems);
    }
    if (r.pids) {
      writeCgroupFile(this.need("pids", "linux.resources.pids"), "pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
    }
    if (r.blockIO?.weight !== undefined) {
      const dir = this.need("blkio", "linux.resources.blockIO.weight");
      // Kernels with only BFQ (no CFQ) have blkio.bfq.weight instead of blkio.weight.
      const file = existsSync(join(dir, "blkio.weight")) ? "blkio.weight" : "blkio.bfq.weight";
      if (!existsSync(join(dir, file))) {
        throw new CgroupError("linux.resources.blockIO.weight needs a proportional I/O scheduler (BFQ) on this host");
      }
      writeCgroupFile(dir, file, r.blockIO.weight);
    }
    for (const limit of r.hugepageLimits ?? []) {
      writeCgroupFile(this.need("hugetlb", "linux.resources.hugepageLimits"), `hugetlb.${limit.pageSize}.limit_in_bytes`, limit.limit);
    }
    if (r.unified && Object.keys(r.unified).length > 0) {
      throw new CgroupError("linux.resources.unified needs a cgroup v2 host");
    }
    if (r.devices?.length) {
      const dir = this.need("devices", "linux.resources.devices");
      // In order: a rule later in the list overrides an earlier one, as the spec says.
      for (const rule of r.devices) writeCgroupFile(dir, rule.allow ? "devices.allow" : "devices.deny", deviceRuleLine(rule));
    }
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.record.dirs)) writeCgroupFile(dir, "cgroup.procs", pid);
  }

  private anyDir(): string {
    return this.dir("memory") ?? this.dir("pids") ?? Object.values(this.record.dirs)[0]!;
  }

  pids(): number[] {
    return readPids(this.anyDir());
  }

  stats(): CgroupStats {
    const mem = this.dir("memory");
    const pids = this.dir("pids");
    const acct = this.dir("cpuacct");
    const limit = mem ? readNumber(mem, "memory.limit_in_bytes") : null;
    return {
      memoryUsage: mem ? readNumber(mem, "memory.usage_in_bytes") : null,
      // v1 reports "no limit" as a huge page-aligned number
      memoryLimit: limit !== null && limit < 2 ** 62 ? limit : null,
      cpuNanos: acct ? readNumber(acct, "cpuacct.usage") : null,
      pids: pids ? readNumber(pids, "pids.current") : null,
      pidsLimit: pids ? readNumber(pids, "pids.max") : null,
    };
  }

  oomKills(): number {
    const mem = this.dir("memory");
    return mem ? (readKeyed(mem, "memory.oom_control").get("oom_kill") ?? 0) : 0;
  }

  freeze(): void {
    const dir = this.need("freezer", "pause");
    writeCgroupFile(dir, "freezer.state", "FROZEN");
  }

  frozen(): boolean {
    const dir = this.dir("freezer");
    return dir !== null && readCgroupFile(dir, "freezer.state") === "FROZEN";
  }

  thaw(): void {
    const dir = this.need("freezer", "resume");
    writeCgroupFile(dir, "freezer.state", "THAWED");
  }

  private async waitFrozen(dir: string): Promise<void> {
    for (let i = 0; i < 400 && readCgroupFile(dir, "freezer.state") !== "FROZEN"; i++) await Bun.sleep(5);
  }

  async update(resources: Resources): Promise<void> {
    this.apply(resources);
  }

  async destroy(): Promise<void> {
    const any = this.anyDir();
    if (existsSync(any) && readPids(any).length > 0) {
      // Freeze first so nothing can fork while we kill, then kill everything, then thaw.
      const freezer = this.dir("freezer");
      if (freezer) {
        writeCgroupFile(freezer, "freezer.state", "FROZEN");
        await this.waitFrozen(freezer);
      }
      for (const pid of readPids(any)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      if (freezer) writeCgroupFile(freezer, "freezer.state", "THAWED");
      await waitEmpty(any);
    }
    for (const [key, dir] of Object.entries(this.record.dirs)) await removeDir(dir, this.record.parents[key], this.record.madeParents?.[key]);
  }
}
