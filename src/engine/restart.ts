// --restart no|on-failure[:N]|always, as docker means them. unless-stopped needs a
// daemon that outlives a reboot; without one it would be `always`, so it is refused.
import { ContainerError } from "../runtime/errors";

export interface RestartPolicy {
  name: "no" | "on-failure" | "always";
  /** on-failure:N; 0 = no limit. */
  maximumRetryCount: number;
}

export function parseRestart(text: string | undefined): RestartPolicy {
  if (text === undefined || text === "no") return { name: "no", maximumRetryCount: 0 };
  if (text === "always") return { name: "always", maximumRetryCount: 0 };
  const m = /^on-failure(?::(\d+))?$/.exec(text);
  if (m) return { name: "on-failure", maximumRetryCount: Number(m[1] ?? 0) };
  throw new ContainerError(`--restart ${text}: use no, on-failure[:N] or always`);
}

/** Whether a container that exited with `exitCode` after `restarts` restarts is started again. */
export function shouldRestart(policy: RestartPolicy, exitCode: number, restarts: number): boolean {
  if (policy.name === "always") return true;
  if (policy.name !== "on-failure" || exitCode === 0) return false;
  return policy.maximumRetryCount === 0 || restarts < policy.maximumRetryCount;
}

/** docker's back-off: 100 ms, doubling, at most a minute. */
export function restartDelayMs(restarts: number): number {
  return Math.min(100 * 2 ** restarts, 60_000);
}
