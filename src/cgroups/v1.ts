// cgroup v1: one directory per hierarchy (memory, cpu,cpuacct, cpuset, pids, ...), named
// ones without controllers (name=systemd) included, so the container sees none of the host's.
// On hybrid hosts the container is also placed in the (controller-less) cgroup2 tree,
// so tools reading /proc/PID/cgroup's "0::" line find it there too.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Resources } from "../spec/types";
import { makeDirs, noteMadeParents } from "./common";
import { destroyV1 } from "./teardown";
import { applyBlkioV1, wantsBlockIO } from "./blkio";
import { checkAboveUsage, deviceRuleLine, limitValue, rdmaLine, sharesSet } from "./convert";
import { firstFile, ioBytesV1, readCgroupFile, readKeyed, readNumber, readPids, writeCgroupFile, writeCgroupLines, writeField } from "./files";
import { v1AddProcess, v1AnyDir, v1Dir, v1Frozen } from "./existing";
import { CgroupError, type Cgroup, type CgroupRecord, type CgroupStats } from "./types";

/**
 * A new cpuset cgroup starts with no CPUs and no memory nodes (a process cannot join it:
 * ENOSPC): each empty one on the way down inherits its parent's. Every level is checked,
 * not only the ones this call made: a parent another start has just made may not be
 * filled yet.
 */
function fillCpuset(dir: string): void {
  const empty: string[] = [];
  // Both files: a parent another start is filling may have its CPUs and not yet its memory nodes.
  const unfilled = (d: string) => !readCgroupFile(d, "cpuset.cpus") || !readCgroupFile(d, "cpuset.mems");
  for (let d = dir; existsSync(join(d, "..", "cpuset.cpus")) && unfilled(d); d = join(d, "..")) empty.unshift(d);
  for (const d of empty) {
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (!readCgroupFile(d, file)) writeCgroupFile(d, file, readCgroupFile(join(d, ".."), file) ?? "");
    }
  }
}

export class V1Cgroup implements Cgroup {
  constructor(readonly record: CgroupRecord) {}

  /** The directory of the hierarchy that has `controller`, if the host has it. */
  private dir(controller: string): string | null {
    return v1Dir(this.record, controller);
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
      if (this.dir("cpuset") === dir) fillCpuset(dir);
    }
  }

  apply(r: Resources): void {
    if (r.memory) this.applyMemory(r.memory);
    if (r.cpu) this.applyCpu(r.cpu);
    if (r.pids) {
      writeCgroupFile(this.need("pids", "linux.resources.pids"), "pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
    }
    if (wantsBlockIO(r.blockIO)) applyBlkioV1(this.need("blkio", "linux.resources.blockIO"), r.blockIO!);
    (r.hugepageLimits ?? []).forEach((limit, i) => {
      const field = `linux.resources.hugepageLimits[${i}]`;
      const dir = this.need("hugetlb", "linux.resources.hugepageLimits");
      writeField(field, dir, firstFile(field, dir, [`hugetlb.${limit.pageSize}.limit_in_bytes`], `no ${limit.pageSize} huge pages`), limit.limit);
    });
    if (r.network?.classID !== undefined) {
      writeField("linux.resources.network.classID", this.need("net_cls", "linux.resources.network.classID"), "net_cls.classid", r.network.classID);
    }
    (r.network?.priorities ?? []).forEach((p, i) => {
      const dir = this.need("net_prio", "linux.resources.network.priorities");
      writeField(`linux.resources.network.priorities[${i}]`, dir, "net_prio.ifpriomap", `${p.name} ${p.priority}`);
    });
    for (const [device, limits] of Object.entries(r.rdma ?? {})) {
      writeField(`linux.resources.rdma.${device}`, this.need("rdma", "linux.resources.rdma"), "rdma.max", rdmaLine(device, limits));
    }
    if (r.unified && Object.keys(r.unified).length > 0) {
      throw new CgroupError("linux.resources.unified needs a cgroup v2 host");
    }
    if (r.devices?.length) {
      const dir = this.need("devices", "linux.resources.devices");
      // In order: a rule later in the list overrides an earlier one, as the spec says.
      writeCgroupLines(dir, r.devices.map((rule) => [rule.allow ? "devices.allow" : "devices.deny", deviceRuleLine(rule)]));
    }
  }

  private applyMemory(mem: NonNullable<Resources["memory"]>): void {
    const dir = this.need("memory", "linux.resources.memory");
    const field = "linux.resources.memory";
    // useHierarchy first: the kernel takes it only before limits are set
    if (mem.useHierarchy !== undefined) {
      writeField(`${field}.useHierarchy`, dir, firstFile(`${field}.useHierarchy`, dir, ["memory.use_hierarchy"], "removed from this kernel"), mem.useHierarchy ? 1 : 0);
    }
    const limit = limitValue(mem.limit);
    if (limit !== null) {
      if (mem.checkBeforeUpdate) checkAboveUsage(mem.limit!, readNumber(dir, "memory.usage_in_bytes"));
      writeCgroupFile(dir, "memory.limit_in_bytes", limit === "max" ? -1 : limit);
    }
    if (mem.swap !== undefined) {
      const memswFile = existsSync(join(dir, "memory.memsw.limit_in_bytes"));
      // swap == limit means "no swap": only enforceable with swap accounting, harmless without.
      if (memswFile) writeCgroupFile(dir, "memory.memsw.limit_in_bytes", mem.swap < 0 ? -1 : mem.swap);
      else if (mem.swap !== mem.limit) {
        throw new CgroupError("linux.resources.memory.swap needs swap accounting (boot with swapaccount=1)");
      }
    }
    if (mem.reservation !== undefined) writeCgroupFile(dir, "memory.soft_limit_in_bytes", mem.reservation < 0 ? -1 : mem.reservation);
    if (mem.kernel !== undefined) {
      writeField(`${field}.kernel`, dir, firstFile(`${field}.kernel`, dir, ["memory.kmem.limit_in_bytes"], "removed from newer kernels"), mem.kernel < 0 ? -1 : mem.kernel);
      // Linux 5.16 and later keep the file but ignore what is written to it: read it back.
      const now = readNumber(dir, "memory.kmem.limit_in_bytes");
      if (mem.kernel >= 0 && (now === null || Math.abs(now - mem.kernel) >= 4096)) {
        throw new CgroupError(`${field}.kernel: this kernel ignores memory.kmem.limit_in_bytes (deprecated since Linux 5.16); remove the field`);
      }
    }
    if (mem.kernelTCP !== undefined) {
      const file = firstFile(`${field}.kernelTCP`, dir, ["memory.kmem.tcp.limit_in_bytes"], "removed from this kernel");
      writeField(`${field}.kernelTCP`, dir, file, mem.kernelTCP < 0 ? -1 : mem.kernelTCP);
    }
    // -1 is "unset" to runc, which docker once sent by default
    if (mem.swappiness !== undefined && mem.swappiness !== -1) writeField(`${field}.swappiness`, dir, "memory.swappiness", mem.swappiness);
    if (mem.disableOOMKiller !== undefined) writeField(`${field}.disableOOMKiller`, dir, "memory.oom_control", mem.disableOOMKiller ? 1 : 0);
  }

  private applyCpu(cpu: NonNullable<Resources["cpu"]>): void {
    const field = "linux.resources.cpu";
    const cpuDir = () => this.need("cpu", field);
    const shares = sharesSet(cpu.shares);
    if (shares !== undefined) writeCgroupFile(cpuDir(), "cpu.shares", shares);
    if (cpu.period !== undefined) writeCgroupFile(cpuDir(), "cpu.cfs_period_us", cpu.period);
    if (cpu.quota !== undefined) writeCgroupFile(cpuDir(), "cpu.cfs_quota_us", cpu.quota);
    const optionalFile = (key: "burst" | "realtimePeriod" | "realtimeRuntime" | "idle", file: string, why: string) => {
      const value = cpu[key];
      if (value === undefined) return;
      const dir = cpuDir();
      writeField(`${field}.${key}`, dir, firstFile(`${field}.${key}`, dir, [file], why), value);
    };
    optionalFile("burst", "cpu.cfs_burst_us", "Linux 5.14 or later");
    // the period first: a runtime must fit in it
    optionalFile("realtimePeriod", "cpu.rt_period_us", "a kernel built with RT group scheduling");
    optionalFile("realtimeRuntime", "cpu.rt_runtime_us", "a kernel built with RT group scheduling");
    optionalFile("idle", "cpu.idle", "Linux 5.15 or later");
    if (cpu.cpus) writeCgroupFile(this.need("cpuset", "linux.resources.cpu.cpus"), "cpuset.cpus", cpu.cpus);
    if (cpu.mems) writeCgroupFile(this.need("cpuset", "linux.resources.cpu.mems"), "cpuset.mems", cpu.mems);
  }

  addProcess(pid: number): void {
    v1AddProcess(this.record, pid);
  }

  private anyDir(): string {
    return v1AnyDir(this.record);
  }

  pids(): number[] {
    return readPids(this.anyDir());
  }

  stats(): CgroupStats {
    const mem = this.dir("memory");
    const pids = this.dir("pids");
    const acct = this.dir("cpuacct");
    const blkio = this.dir("blkio");
    const limit = mem ? readNumber(mem, "memory.limit_in_bytes") : null;
    return {
      memoryUsage: mem ? readNumber(mem, "memory.usage_in_bytes") : null,
      // v1 reports "no limit" as a huge page-aligned number
      memoryLimit: limit !== null && limit < 2 ** 62 ? limit : null,
      cpuNanos: acct ? readNumber(acct, "cpuacct.usage") : null,
      pids: pids ? readNumber(pids, "pids.current") : null,
      pidsLimit: pids ? readNumber(pids, "pids.max") : null,
      ...ioBytesV1(blkio ? readCgroupFile(blkio, "blkio.throttle.io_service_bytes") : null),
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
    return v1Frozen(this.record);
  }

  thaw(): void {
    const dir = this.need("freezer", "resume");
    writeCgroupFile(dir, "freezer.state", "THAWED");
  }

  async update(resources: Resources): Promise<void> {
    this.apply(resources);
  }

  destroy(): Promise<void> {
    return destroyV1(this.record);
  }
}
