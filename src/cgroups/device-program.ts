// Puts a device filter on a cgroup v2 directory, in place of the one there before.
// The attachment holds the program: it outlives our fds and this process (create
// returns, update exits) and goes with the cgroup when it is removed.
import { O_CLOEXEC, O_RDONLY, AT_FDCWD } from "../sys/constants";
import { O_DIRECTORY, openat } from "../sys/openat";
import { SysError } from "../sys/errno";
import { attachDeviceProgram, attachedDevicePrograms, detachDeviceProgram, loadDeviceProgram, programFdById } from "../sys/bpf";
import { close } from "../sys/fd";
import type { DeviceCgroupRule } from "../spec/types";
import { deviceFilter } from "./device-filter";
import { CgroupError } from "./types";

/**
 * Loads the program for `rules` and attaches it to the cgroup at `dir`. A program
 * attached there before (mycr's, from create or an earlier update) is replaced in one
 * step where the kernel can (5.6+); otherwise the new one is attached first and the old
 * ones detached after, so the container is never without a filter in between.
 */
export function setDeviceRules(dir: string, rules: DeviceCgroupRule[]): void {
  const program = deviceFilter(rules);
  const fds: number[] = [];
  try {
    const cgroup = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fds.push(cgroup);
    const prog = loadDeviceProgram(program, "mycr_devices");
    fds.push(prog);
    const old = attachedDevicePrograms(cgroup)
      .map(programFdById)
      .filter((fd): fd is number => fd !== null);
    fds.push(...old);
    if (old.length === 1 && attachDeviceProgram(cgroup, prog, old[0])) return;
    attachDeviceProgram(cgroup, prog);
    for (const fd of old) detachDeviceProgram(cgroup, fd);
  } catch (e) {
    if (e instanceof SysError) throw new CgroupError(`linux.resources.devices: cannot set the device filter of ${dir}: ${e.message}`);
    throw e;
  } finally {
    for (const fd of fds) close(fd);
  }
}
