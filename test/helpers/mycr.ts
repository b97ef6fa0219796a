// Driving the built binary the way a user does.
import type { Subprocess } from "bun";
import { constants } from "node:os";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MYCR, WORK, mycrEnv } from "./env";

/** The shell's view of how a process ended: its code, or 128+N after signal N. */
function status(proc: Subprocess): number {
  if (proc.exitCode !== null) return proc.exitCode;
  const sig = proc.signalCode;
  return 128 + (typeof sig === "number" ? sig : (constants.signals as Record<string, number>)[sig ?? "SIGKILL"] ?? 0);
}

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /**
   * The command leaves a container running that inherits its stdout/stderr (create,
   * run -d): capture them in files, since a pipe would stay open as long as the container.
   */
  leavesContainer?: boolean;
  stdin?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Another mycr binary than the one built (the attack tests aim at a copy). */
  binary?: string;
  /** The directory mycr starts in (the test's own by default). */
  cwd?: string;
}

let captures = 0;

async function mycrToFiles(args: string[], opts: RunOptions): Promise<Result> {
  mkdirSync(WORK, { recursive: true });
  const base = join(WORK, `capture-${process.pid}-${++captures}`);
  const proc = Bun.spawn([opts.binary ?? MYCR, ...args], {
    stdin: "ignore",
    stdout: Bun.file(`${base}.out`),
    stderr: Bun.file(`${base}.err`),
    env: mycrEnv(opts.env),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  const timer = setTimeout(() => proc.kill(9), opts.timeoutMs ?? 30_000);
  await proc.exited;
  clearTimeout(timer);
  const result = { exitCode: status(proc), stdout: readFileSync(`${base}.out`, "utf8"), stderr: readFileSync(`${base}.err`, "utf8") };
  rmSync(`${base}.out`, { force: true });
  rmSync(`${base}.err`, { force: true });
  return result;
}

/** Runs `mycr ARGS...` to completion. */
export async function mycr(args: string[], opts: RunOptions = {}): Promise<Result> {
  // -d alone or among short booleans (-dit); a detached run's monitor does not keep our
  // pipes, but an OCI `run -d --bundle` or `exec -d` leaves a process that does.
  const detaching = (args[0] === "run" || args[0] === "exec") && args.some((a) => a === "--detach" || /^-[a-z]*d[a-z]*$/.test(a));
  if (opts.leavesContainer || args[0] === "create" || detaching) {
    return mycrToFiles(args, opts);
  }
  const proc = Bun.spawn([opts.binary ?? MYCR, ...args], {
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: mycrEnv(opts.env),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  const timer = setTimeout(() => proc.kill(9), opts.timeoutMs ?? 30_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(timer);
  return { exitCode: status(proc), stdout, stderr };
}

/** A mycr left running in the background, with its output collected as it comes. */
export interface Background {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output: () => string;
  errors: () => string;
  /** Resolves once stdout contains `text`. */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  result: () => Promise<Result>;
}

export function mycrBackground(args: string[], opts: RunOptions = {}): Background {
  const proc = Bun.spawn([MYCR, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: mycrEnv(opts.env) });
  let out = "";
  let err = "";
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const done = Promise.all([pump(proc.stdout, (s) => (out += s)), pump(proc.stderr, (s) => (err += s))]);
  return {
    proc,
    output: () => out,
    errors: () => err,
    async waitFor(text, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}"; stdout: ${out} stderr: ${err}`);
        if (proc.exitCode !== null) throw new Error(`mycr exited (${proc.exitCode}) before "${text}"; stderr: ${err}`);
        await Bun.sleep(10);
      }
    },
    async result() {
      await proc.exited;
      await done;
      return { exitCode: status(proc), stdout: out, stderr: err };
    },
  };
}
