// What the benches share: one timed run of a command, and the median of the times.

/** Wall time of one run of `argv` in ms; throws with its stderr if it failed. */
export function timeOnce(argv: string[], env?: Record<string, string>): number {
  const start = performance.now();
  const r = Bun.spawnSync(argv, { env, stdout: "ignore", stderr: "pipe" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
  return ms;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
