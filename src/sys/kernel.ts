// The running kernel's release ("6.1.0-28-amd64"), as uname(2) gives it. Read from /proc
// rather than node:os: loading node:os costs about a millisecond of CPU at every start.
import { readFileSync } from "node:fs";

let release: string | undefined;

export function kernelRelease(): string {
  if (release !== undefined) return release;
  try {
    release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    release = (require("node:os") as typeof import("node:os")).release(); // no /proc: uname(2) itself
  }
  return release;
}

/** Whether kernel `release` ("6.1.0-28-amd64") is `wanted` ("5.10") or newer. */
export function releaseAtLeast(release: string, wanted: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((n) => Number.parseInt(n, 10) || 0);
  const [haveMajor = 0, haveMinor = 0] = parse(release);
  const [needMajor = 0, needMinor = 0] = parse(wanted);
  return haveMajor > needMajor || (haveMajor === needMajor && haveMinor >= needMinor);
}
