// Linux security modules a config may ask for: AppArmor profiles and SELinux labels.
// Whether the kernel has them is read from the kernel, never assumed; a config that
// names one on a host without it is refused (runtime/refuse.ts), not run unconfined.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function apparmorEnabled(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() === "Y";
  } catch {
    return false;
  }
}

export function selinuxEnabled(): boolean {
  if (existsSync("/sys/fs/selinux/enforce")) return true;
  try {
    return readFileSync("/proc/self/mountinfo", "utf8").includes(" - selinuxfs ");
  } catch {
    return false;
  }
}

function writeAttr(field: string, files: string[], value: string): void {
  let last: NodeJS.ErrnoException | null = null;
  for (const file of files) {
    try {
      writeFileSync(file, value);
      return;
    } catch (e) {
      last = e as NodeJS.ErrnoException;
      if (last.code !== "ENOENT") break;
    }
  }
  const hint = field === "process.apparmorProfile" ? " (is the profile loaded? see aa-status)" : "";
  throw new Error(`${field}: the kernel refused ${JSON.stringify(value)}: ${last?.code ?? "error"}${hint}`);
}

/**
 * The AppArmor profile the next execve of this thread enters. /proc/thread-self: the
 * attribute is per thread, and the JS thread is the one that calls execve.
 */
export function setAppArmorOnExec(profile: string): void {
  writeAttr("process.apparmorProfile", ["/proc/thread-self/attr/apparmor/exec", "/proc/thread-self/attr/exec"], `exec ${profile}`);
}

/** The SELinux label the next execve of this thread runs with. */
export function setSelinuxOnExec(label: string): void {
  writeAttr("process.selinuxLabel", ["/proc/thread-self/attr/exec"], label);
}
