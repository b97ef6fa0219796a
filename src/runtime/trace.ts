// MYCR_TRACE=1 prints the milliseconds since process start at named points of a run,
// for finding where start-up time goes (see bench/).
// node:fs is loaded only when tracing: loading it costs ~5 ms of CPU, a sixth of what
// `mycr --version` costs in all, and main.ts calls trace() first thing in every process.

const enabled = !!process.env.MYCR_TRACE;

export function trace(point: string): void {
  if (!enabled) return;
  const ms = performance.now(); // before touching any stream or module: loading one takes time itself
  (require("node:fs") as typeof import("node:fs")).writeSync(2, `mycr[${process.pid}] ${ms.toFixed(2)}ms ${point}\n`);
}
