// linux.sysctl: written under the container's /proc/sys after /proc is mounted and
// before /proc/sys is made read-only. Only namespaced parameters are accepted (see
// spec/sysctl.ts): the value then holds for the container's namespaces alone.
import { writeFileSync } from "node:fs";
import type { NamespaceType, Spec } from "../spec/types";
import { sysctlPath, sysctlProblem } from "../spec/sysctl";

/** The first reason the spec's sysctls cannot be applied, or null. */
export function sysctlError(spec: Spec): string | null {
  const own = new Set<NamespaceType>((spec.linux?.namespaces ?? []).map((n) => n.type));
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const problem = sysctlProblem(key, own);
    if (problem) return `linux.sysctl: ${problem}`;
  }
  return null;
}

export function applySysctls(sysctl: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctl)) {
    try {
      writeFileSync(sysctlPath(key), value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new Error(`linux.sysctl: ${key}: no such kernel parameter on this host`);
      throw new Error(`linux.sysctl: ${key}=${value}: ${code ?? (e as Error).message}`);
    }
  }
}
