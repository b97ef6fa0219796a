// The instructions that only change the image config: ENV, LABEL, WORKDIR, USER, CMD,
// ENTRYPOINT, EXPOSE, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, MAINTAINER. Arguments are
// expanded with the stage's ENV and ARGs where docker expands them.
import { posix } from "node:path";
import type { ConfigBody } from "../image/changes";
import { BuildError, type Instruction } from "./dockerfile";
import { expandWord, expandWords, keyValues, type Env } from "./shell-words";

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

export interface ConfigContext {
  body: ConfigBody;
  env: Env;
  escape: string;
  /** CMD was set in this stage (then ENTRYPOINT does not clear it). */
  cmdSet: boolean;
  /** MAINTAINER's value, for the config's author. */
  author?: string;
}

/** RUN/CMD/ENTRYPOINT's exec form, or the shell form run by the stage's SHELL. */
export function commandOf(ins: Instruction, body: ConfigBody): string[] {
  return ins.json ?? [...(body.Shell ?? DEFAULT_SHELL), ins.args];
}

export function setEnv(body: ConfigBody, key: string, value: string): void {
  const env = body.Env ?? [];
  const at = env.findIndex((e) => e.startsWith(`${key}=`));
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  body.Env = env;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("30s", "1m30s", "500ms") in nanoseconds, as HEALTHCHECK records it. */
function nanoseconds(text: string, what: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw new BuildError(`${what} "${text}" is not a duration (30s, 1m30s)`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0));
}

function healthcheck(ins: Instruction, body: ConfigBody): void {
  const args = ins.args.trim();
  if (/^none$/i.test(args)) {
    body.Healthcheck = { Test: ["NONE"] };
    return;
  }
  const m = /^CMD\s+(.*)$/is.exec(args);
  if (!m) throw new BuildError('takes "NONE" or [OPTIONS] CMD command');
  const rest = m[1]!.trim();
  const json = rest.startsWith("[") ? (JSON.parse(rest) as string[]) : undefined;
  const check: NonNullable<ConfigBody["Healthcheck"]> = { Test: json ? ["CMD", ...json] : ["CMD-SHELL", rest] };
  for (const [flag, value] of ins.flags) {
    if (flag === "interval") check.Interval = nanoseconds(value, "--interval");
    else if (flag === "timeout") check.Timeout = nanoseconds(value, "--timeout");
    else if (flag === "start-period") check.StartPeriod = nanoseconds(value, "--start-period");
    else if (flag === "start-interval") check.StartInterval = nanoseconds(value, "--start-interval");
    else if (flag === "retries") {
      if (!/^\d+$/.test(value)) throw new BuildError(`--retries "${value}" is not a number`);
      check.Retries = Number(value);
    } else throw new BuildError(`unknown flag --${flag}`);
  }
  body.Healthcheck = check;
}

/** Applies a config-only instruction; false when `ins` is not one. */
export function applyConfigStep(ins: Instruction, c: ConfigContext): boolean {
  const { body, env, escape } = c;
  const words = () => expandWords(ins.args, env, escape);
  switch (ins.name) {
    case "ENV":
      for (const [k, v] of keyValues(ins.args, env, escape, true)) {
        setEnv(body, k, v);
        env.set(k, v); // later pairs and instructions see it
      }
      return true;
    case "LABEL":
      body.Labels = { ...(body.Labels ?? {}), ...Object.fromEntries(keyValues(ins.args, env, escape, true)) };
      return true;
    case "WORKDIR": {
      const dir = expandWord(ins.args, env, escape);
      body.WorkingDir = posix.resolve(body.WorkingDir || "/", dir);
      return true;
    }
    case "USER":
      body.User = expandWord(ins.args, env, escape);
      return true;
    case "CMD":
      body.Cmd = commandOf(ins, body);
      c.cmdSet = true;
      return true;
    case "ENTRYPOINT":
      body.Entrypoint = commandOf(ins, body);
      if (!c.cmdSet) body.Cmd = null; // docker: an ENTRYPOINT drops the CMD inherited from the base
      return true;
    case "EXPOSE": {
      const ports = { ...(body.ExposedPorts ?? {}) };
      for (const p of words()) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new BuildError(`"${p}" is not PORT[/PROTO]`);
        ports[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      body.ExposedPorts = ports;
      return true;
    }
    case "VOLUME": {
      const paths = ins.json ?? words();
      if (paths.length === 0) throw new BuildError("needs a path");
      body.Volumes = { ...(body.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
      return true;
    }
    case "STOPSIGNAL":
      body.StopSignal = expandWord(ins.args, env, escape);
      return true;
    case "SHELL":
      if (!ins.json || ins.json.length === 0) throw new BuildError('takes the JSON form: SHELL ["executable", "parameters"]');
      body.Shell = ins.json;
      return true;
    case "HEALTHCHECK":
      healthcheck(ins, body);
      return true;
    case "MAINTAINER":
      c.author = ins.args;
      return true;
    default:
      return false;
  }
}
