// process.oomScoreAdj: written by Bun's init for itself, or by the runtime for the native
// init's child (its pid) before it runs anything of the container's.
import { writeFileSync } from "node:fs";

export function setOomScoreAdj(value: number, pid: number | "self" = "self"): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(value));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new Error(`oom_score_adj ${value}: lowering the OOM score needs CAP_SYS_RESOURCE, which this host does not give mycr`);
    }
    throw e;
  }
}
