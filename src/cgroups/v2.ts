// cgroup v2: one unified tree; controllers must be enabled in every ancestor's
// cgroup.subtree_control before a child can use them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Resources } from "../spec/types";
import { makeDirs, noteMadeParents } from "./common";
import { destroyV2, killAllV2 } from "./teardown";
import { setDeviceRules } from "./device-program";
import { applyIoV2, wantsBlockIO } from "./blkio";
import { checkAboveUsage, limitValue, rdmaLine, sharesSet, sharesToWeight, swapOnly } from "./convert";
import { firstFile, ioBytesV2, readCgroupFile, readKeyed, readNumber, readPids, writeCgroupFile, writeField } from "./files";
import { v2AddProcess, v2Frozen } from "./existing";
import { CgroupError, type Cgroup, type CgroupRecord, type CgroupStats } from "./types";

export class V2Cgroup implements Cgroup {
  readonly dir: string;

  constructor(
    readonly record: CgroupRecord,
    private readonly mountRoot: string,
  ) {
    this.dir = record.dirs[""]!;
  }

  private has(controller: string): boolean {
    return (readCgroupFile(this.dir, "cgroup.controllers") ?? "").split(" ").includes(controller);
  }

  private need(controller: string, field: string): void {
    if (!this.has(controller)) throw new CgroupError(`${field} needs the ${controller} controller, not enabled on this host`);
  }

  /** Creates the directory, enabling every available controller on the way down. */
  create(): void {
    const created = makeDirs(this.dir);
    noteMadeParents(this.record, "", this.dir, created);
    const chain = created.length > 0 ? created : [this.dir];
    for (const d of chain) {
      const parent = join(d, "..");
      if (parent.length < this.mountRoot.length) continue;
      const available = (readCgroupFile(parent, "cgroup.controllers") ?? "").split(" ").filter(Boolean);
      const enabled = new Set((readCgroupFile(parent, "cgroup.subtree_control") ?? "").split(" ").filter(Boolean));
      const missing = available.filter((c) => !enabled.has(c));
      if (missing.length > 0) writeCgroupFile(parent, "cgroup.subtree_control", missing.map((c) => `+${c}`).join(" "));
    }
  }

  apply(r: Resources): void {
    if (r.memory) this.applyMemory(r.memory);
    if (r.cpu) this.applyCpu(r.cpu);
    if (r.pids) {
      this.need("pids", "linux.resources.pids");
      writeCgroupFile(this.dir, "pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
    }
    if (wantsBlockIO(r.blockIO)) {
      this.need("io", "linux.resources.blockIO");
      applyIoV2(this.dir, r.blockIO!);
    }
    (r.hugepageLimits ?? []).forEach((limit, i) => {
      const field = `linux.resources.hugepageLimits[${i}]`;
      this.need("hugetlb", "linux.resources.hugepageLimits");
      writeField(field, this.dir, firstFile(field, this.dir, [`hugetlb.${limit.pageSize}.max`], `no ${limit.pageSize} huge pages`), limit.limit);
    });
    for (const key of ["classID", "priorities"] as const) {
      if (r.network?.[key] !== undefined) {
        throw new CgroupError(`linux.resources.network.${key}: cgroup v2 has no ${key === "classID" ? "net_cls" : "net_prio"} controller; remove the field`);
      }
    }
    for (const [device, limits] of Object.entries(r.rdma ?? {})) {
      this.need("rdma", "linux.resources.rdma");
      writeField(`linux.resources.rdma.${device}`, this.dir, "rdma.max", rdmaLine(device, limits));
    }
    // cgroup v2 has no devices files: the rules become an eBPF program on the cgroup,
    // replacing the one an earlier create or update put there.
    if (r.devices?.length) setDeviceRules(this.dir, r.devices);
    for (const [file, value] of Object.entries(r.unified ?? {})) {
      if (file.includes("/") || file.startsWith(".")) throw new CgroupError(`linux.resources.unified: invalid file name "${file}"`);
      writeCgroupFile(this.dir, file, value);
    }
  }

  private applyMemory(mem: NonNullable<Resources["memory"]>): void {
    const field = "linux.resources.memory";
    this.need("memory", field);
    const max = limitValue(mem.limit);
    if (max !== null) {
      if (mem.checkBeforeUpdate) checkAboveUsage(mem.limit!, readNumber(this.dir, "memory.current"));
      writeCgroupFile(this.dir, "memory.max", max);
    }
    if (mem.reservation !== undefined) writeCgroupFile(this.dir, "memory.low", limitValue(mem.reservation)!);
    if (mem.swap !== undefined) {
      if (existsSync(join(this.dir, "memory.swap.max"))) {
        writeCgroupFile(this.dir, "memory.swap.max", swapOnly(mem.swap, mem.limit ?? 0));
      } else if (mem.swap !== mem.limit) {
        throw new CgroupError("linux.resources.memory.swap needs swap accounting on this host");
      }
    }
    if (mem.kernel !== undefined) throw new CgroupError(`${field}.kernel: cgroup v2 has no kernel memory limit (it is part of memory.max); remove the field`);
    if (mem.kernelTCP !== undefined) throw new CgroupError(`${field}.kernelTCP: cgroup v2 has no TCP buffer limit (it is part of memory.max); remove the field`);
    // -1 is "unset" to runc, which docker once sent by default
    if (mem.swappiness !== undefined && mem.swappiness !== -1) throw new CgroupError(`${field}.swappiness: cgroup v2 has no per-cgroup swappiness; remove the field`);
    if (mem.disableOOMKiller) throw new CgroupError(`${field}.disableOOMKiller: cgroup v2 cannot turn the OOM killer off; remove the field`);
    if (mem.useHierarchy === false) throw new CgroupError(`${field}.useHierarchy: cgroup v2 is always hierarchical; remove the field or set it to true`);
  }

  private applyCpu(cpu: NonNullable<Resources["cpu"]>): void {
    const field = "linux.resources.cpu";
    if (cpu.realtimeRuntime !== undefined || cpu.realtimePeriod !== undefined) {
      const key = cpu.realtimeRuntime !== undefined ? "realtimeRuntime" : "realtimePeriod";
      throw new CgroupError(`${field}.${key}: cgroup v2 has no real-time CPU budget; remove the field`);
    }
    const shares = sharesSet(cpu.shares);
    const wantsCpu = [shares, cpu.quota, cpu.period, cpu.burst, cpu.idle].some((v) => v !== undefined);
    if (wantsCpu) this.need("cpu", field);
    if (shares !== undefined) writeCgroupFile(this.dir, "cpu.weight", sharesToWeight(shares));
    if (cpu.quota !== undefined || cpu.period !== undefined) {
      const quota = cpu.quota === undefined || cpu.quota < 0 ? "max" : String(cpu.quota);
      writeCgroupFile(this.dir, "cpu.max", `${quota} ${cpu.period ?? 100000}`);
    }
    if (cpu.burst !== undefined) writeField(`${field}.burst`, this.dir, firstFile(`${field}.burst`, this.dir, ["cpu.max.burst"], "Linux 5.14 or later"), cpu.burst);
    if (cpu.idle !== undefined) writeField(`${field}.idle`, this.dir, firstFile(`${field}.idle`, this.dir, ["cpu.idle"], "Linux 5.15 or later"), cpu.idle);
    if (cpu.cpus) {
      this.need("cpuset", "linux.resources.cpu.cpus");
      writeCgroupFile(this.dir, "cpuset.cpus", cpu.cpus);
    }
    if (cpu.mems) {
      this.need("cpuset", "linux.resources.cpu.mems");
      writeCgroupFile(this.dir, "cpuset.mems", cpu.mems);
    }
  }

  addProcess(pid: number): void {
    v2AddProcess(this.dir, pid);
  }

  pids(): number[] {
    return readPids(this.dir);
  }

  stats(): CgroupStats {
    const usec = readKeyed(this.dir, "cpu.stat").get("usage_usec");
    return {
      memoryUsage: readNumber(this.dir, "memory.current"),
      memoryLimit: readNumber(this.dir, "memory.max"),
      cpuNanos: usec === undefined ? null : usec * 1000,
      pids: readNumber(this.dir, "pids.current"),
      pidsLimit: readNumber(this.dir, "pids.max"),
      ...ioBytesV2(readCgroupFile(this.dir, "io.stat")),
    };
  }

  oomKills(): number {
    return readKeyed(this.dir, "memory.events").get("oom_kill") ?? 0;
  }

  freeze(): void {
    writeCgroupFile(this.dir, "cgroup.freeze", 1);
  }

  frozen(): boolean {
    return v2Frozen(this.dir);
  }

  thaw(): void {
    writeCgroupFile(this.dir, "cgroup.freeze", 0);
  }

  async update(resources: Resources): Promise<void> {
    this.apply(resources);
  }

  destroy(): Promise<void> {
    return destroyV2(this.record);
  }

  /** Kills every process in the cgroup and waits until it is empty. */
  kill(): Promise<void> {
    return killAllV2(this.dir);
  }
}
