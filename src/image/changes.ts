// `import --change 'INSTRUCTION ARGS'`: the Dockerfile instructions docker accepts there
// that set the image config: CMD, ENTRYPOINT (JSON or shell form), ENV, WORKDIR, USER,
// EXPOSE, LABEL, STOPSIGNAL. ONBUILD and VOLUME are refused (mycr has no builds or volumes).
import { ContainerError } from "../runtime/errors";
import type { ImageConfig } from "./types";

export type ConfigBody = NonNullable<ImageConfig["config"]>;

/** Words with "double" or 'single' quotes and backslash escapes, as the Dockerfile parser reads them. */
function words(text: string, what: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new ContainerError(`--change "${what}": unterminated quote`);
  if (inWord) out.push(cur);
  return out;
}

/** JSON form `["a","b"]`, else shell form run by /bin/sh -c. */
function command(args: string): string[] {
  if (args.startsWith("[")) {
    try {
      const v = JSON.parse(args) as unknown;
      if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
    } catch {
      // not JSON: docker then takes it as the shell form too
    }
  }
  return ["/bin/sh", "-c", args];
}

/** `K=V K2="V 2"` pairs, or the old `K V` form (one pair, the rest is the value). */
function pairs(args: string, line: string, oldForm: boolean): [string, string][] {
  const w = words(args, line);
  if (w.length === 0) throw new ContainerError(`--change "${line}": needs KEY=VALUE`);
  if (!w[0]!.includes("=")) {
    if (!oldForm || w.length < 2) throw new ContainerError(`--change "${line}": needs KEY=VALUE`);
    return [[w[0]!, args.trim().slice(args.trim().search(/\s/)).trim()]];
  }
  return w.map((p) => {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new ContainerError(`--change "${line}": "${p}" is not KEY=VALUE`);
    return [p.slice(0, eq), p.slice(eq + 1)];
  });
}

export function applyChange(config: ConfigBody, line: string): void {
  const m = /^\s*(\S+)\s*(.*)$/s.exec(line);
  if (!m) throw new ContainerError(`--change "${line}": empty`);
  const instruction = m[1]!.toUpperCase();
  const args = m[2]!.trim();
  if (args === "") throw new ContainerError(`--change "${line}": ${instruction} needs an argument`);
  switch (instruction) {
    case "CMD":
      config.Cmd = command(args);
      return;
    case "ENTRYPOINT":
      config.Entrypoint = command(args);
      return;
    case "ENV": {
      const env = config.Env ?? [];
      for (const [k, v] of pairs(args, line, true)) {
        const at = env.findIndex((e) => e.startsWith(`${k}=`));
        if (at >= 0) env[at] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      config.Env = env;
      return;
    }
    case "LABEL":
      config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(pairs(args, line, true)) };
      return;
    case "WORKDIR":
      config.WorkingDir = args;
      return;
    case "USER":
      config.User = args;
      return;
    case "STOPSIGNAL":
      config.StopSignal = args;
      return;
    case "EXPOSE": {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of words(args, line)) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw new ContainerError(`--change "${line}": "${p}" is not PORT[/PROTO]`);
        ports[p.includes("/") ? p : `${p}/tcp`] = {};
      }
      config.ExposedPorts = ports;
      return;
    }
    default:
      throw new ContainerError(`--change "${line}": ${instruction} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR are)`);
  }
}

export function configFromChanges(changes: string[]): ConfigBody {
  const config: ConfigBody = {};
  for (const c of changes) applyChange(config, c);
  return config;
}
