// Timing whole processes for the benches: wall time measured around the spawn, CPU time
// (user + system of the process and the children it reaped) from wait4's rusage.

export interface Sample {
  wall: number;
  cpu: number;
}

export interface Step {
  argv: string[];
  env?: Record<string, string>;
  /**
   * It leaves a process running (create, run -d) that inherits its stdio: a pipe for
   * stderr would then not end until that process does.
   */
  leavesRunning?: boolean;
}

/** Runs the steps one after another; their times add up (create, then start, then delete). */
export function timeSteps(steps: Step[]): Sample {
  let wall = 0;
  let cpu = 0;
  for (const s of steps) {
    const start = performance.now();
    const r = Bun.spawnSync(s.argv, { env: s.env, stdin: "ignore", stdout: "ignore", stderr: s.leavesRunning ? "ignore" : "pipe" });
    wall += performance.now() - start;
    if (r.exitCode !== 0) throw new Error(`${s.argv.join(" ")} failed (${r.exitCode}): ${r.stderr?.toString().trim() ?? ""}`);
    cpu += Number(r.resourceUsage.cpuTime.total) / 1000;
  }
  return { wall, cpu };
}

/** Wall time of one run of `argv` in ms (the userns branch's benches use this shape). */
export function timeOnce(argv: string[], env?: Record<string, string>): number {
  return timeSteps([{ argv, ...(env ? { env } : {}) }]).wall;
}

/** Starts every command at once and waits for all: the wall time of the batch. */
export async function timeBatch(steps: Step[]): Promise<Sample> {
  const start = performance.now();
  const procs = steps.map((s) => Bun.spawn(s.argv, { env: s.env, stdin: "ignore", stdout: "ignore", stderr: "pipe" }));
  const codes = await Promise.all(procs.map((p) => p.exited));
  const wall = performance.now() - start;
  const failed = codes.findIndex((c) => c !== 0);
  if (failed >= 0) throw new Error(`${steps[failed]!.argv.join(" ")} failed (${codes[failed]}): ${await new Response(procs[failed]!.stderr).text()}`);
  const cpu = procs.reduce((a, p) => a + Number(p.resourceUsage()?.cpuTime.total ?? 0n) / 1000, 0);
  return { wall, cpu };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function which(cmd: string): string | null {
  const r = Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]);
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}
