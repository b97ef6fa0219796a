// MYCR_TRACE=1 prints the milliseconds since process start at named points of a run,
// and the CPU time (user + system, all threads) the process has used by then, for
// finding where start-up time goes (see bench/ and docs/performance.md).
// node:fs is loaded only when tracing: loading it costs ~5 ms of CPU, a sixth of what
// `mycr --version` costs in all, and main.ts calls trace() first thing in every process.

const enabled = !!process.env.MYCR_TRACE;

export function trace(point: string): void {
  if (!enabled) return;
  const ms = performance.now(); // before touching any stream or module: loading one takes time itself
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  (require("node:fs") as typeof import("node:fs")).writeSync(2, `mycr[${process.pid}] ${ms.toFixed(2)}ms cpu ${cpuMs.toFixed(1)}ms ${point}\n`);
}
