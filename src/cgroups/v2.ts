// cgroup v2: one unified tree; controllers must be enabled in every ancestor's
// cgroup.subtree_control before a child can use them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Resources } from "../spec/types";
import { makeDirs, noteMadeParents, removeDir, waitEmpty } from "./common";
import { setDeviceRules } from "./device-program";
import { blkioToIoWeight, limitValue, sharesToWeight, swapOnly } from "./convert";
import { readCgroupFile, readKeyed, readNumber, readPids, writeCgroupFile } from "./files";
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
    const mem = r.memory;
    if (mem) {
      this.need("memory", "linux.resources.memory");
      const max = limitValue(mem.limit);
      if (max !== null) writeCgroupFile(this.dir, "memory.max", max);
      if (mem.reservation !== undefined) writeCgroupFile(this.dir, "memory.low", limitValue(mem.reservation)!);
      if (mem.swap !== undefined) {
        if (existsSync(join(this.dir, "memory.swap.max"))) {
          writeCgroupFile(this.dir, "memory.swap.max", swapOnly(mem.swap, mem.limit ?? 0));
        } else if (mem.swap !== mem.limit) {
          throw new CgroupError("linux.resources.memory.swap needs swap accounting on this host");
        }
      }
      if (mem.disableOOMKiller) throw new CgroupError("linux.resources.memory.disableOOMKiller is not available on cgroup v2");
    }
    const cpu = r.cpu;
    if (cpu) {
      if (cpu.shares !== undefined || cpu.quota !== undefined || cpu.period !== undefined) {
        this.need("cpu", "linux.resources.cpu");
        if (cpu.shares !== undefined) writeCgroupFile(this.dir, "cpu.weight", sharesToWeight(cpu.shares));
        if (cpu.quota !== undefined || cpu.period !== undefined) {
          const quota = cpu.quota === undefined || cpu.quota < 0 ? "max" : String(cpu.quota);
          writeCgroupFile(this.dir, "cpu.max", `${quota} ${cpu.period ?? 100000}`);
        }
        if (cpu.burst !== undefined) writeCgroupFile(this.dir, "cpu.max.burst", cpu.burst);
      }
      if (cpu.idle !== undefined) writeCgroupFile(this.dir, "cpu.idle", cpu.idle);
      if (cpu.cpus) {
        this.need("cpuset", "linux.resources.cpu.cpus");
        writeCgroupFile(this.dir, "cpuset.cpus", cpu.cpus);
      }
      if (cpu.mems) {
        this.need("cpuset", "linux.resources.cpu.mems");
        writeCgroupFile(this.dir, "cpuset.mems", cpu.mems);
      }
    }
    if (r.pids) {
      this.need("pids", "linux.resources.pids");
      writeCgroupFile(this.dir, "pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
    }
    if (r.blockIO?.weight !== undefined) {
      this.need("io", "linux.resources.blockIO.weight");
      if (existsSync(join(this.dir, "io.weight"))) writeCgroupFile(this.dir, "io.weight", `default ${blkioToIoWeight(r.blockIO.weight)}`);
      else if (existsSync(join(this.dir, "io.bfq.weight"))) writeCgroupFile(this.dir, "io.bfq.weight", r.blockIO.weight);
      else throw new CgroupError("linux.resources.blockIO.weight needs a proportional I/O scheduler (BFQ) on this host");
    }
    for (const limit of r.hugepageLimits ?? []) {
      this.need("hugetlb", "linux.resources.hugepageLimits");
      writeCgroupFile(this.dir, `hugetlb.${limit.pageSize}.max`, limit.limit);
    }
    // cgroup v2 has no devices files: the rules become an eBPF program on the cgroup,
    // replacing the one an earlier create or update put there.
    if (r.devices?.length) setDeviceRules(this.dir, r.devices);
    for (const [file, value] of Object.entries(r.unified ?? {})) {
      if (file.includes("/") || file.startsWith(".")) throw new CgroupError(`linux.resources.unified: invalid file name "${file}"`);
      writeCgroupFile(this.dir, file, value);
    }
  }

  addProcess(pid: number): void {
    writeCgroupFile(this.dir, "cgroup.procs", pid);
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
    };
  }

  oomKills(): number {
    return readKeyed(this.dir, "memory.events").get("oom_kill") ?? 0;
  }

  freeze(): void {
    writeCgroupFile(this.dir, "cgroup.freeze", 1);
  }

  frozen(): boolean {
    return readKeyed(this.dir, "cgroup.events").get("frozen") === 1;
  }

  thaw(): void {
    writeCgroupFile(this.dir, "cgroup.freeze", 0);
  }

  async update(resources: Resources): Promise<void> {
    this.apply(resources);
  }

  async destroy(): Promise<void> {
    await this.kill();
    await removeDir(this.dir, this.record.parents[""], this.record.madeParents?.[""]);
  }

  /** Kills every process in the cgroup and waits until it is empty. */
  async kill(): Promise<void> {
    if (existsSync(this.dir) && readPids(this.dir).length > 0) {
      if (existsSync(join(this.dir, "cgroup.kill"))) {
        try {
          writeCgroupFile(this.dir, "cgroup.kill", 1);
        } catch (e) {
          // Emptied and removed meanwhile: systemd removes a scope's cgroup the moment
          // its last process (a dying init) is gone.
          if (existsSync(this.dir)) throw e;
          return;
        }
      } else {
        this.freeze();
        for (const pid of readPids(this.dir)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        this.thaw();
      }
      await waitEmpty(this.dir);
    }
  }
}
