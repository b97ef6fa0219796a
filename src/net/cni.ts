// Driving CNI plugins as the CNI spec (1.0) says: the plugin binary found on CNI_PATH,
// CNI_* variables in its environment, the network's config on stdin, the result (or
// an error object) on stdout. A conflist runs its plugins in order for ADD, each
// receiving the previous result, and in reverse for DEL.
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface CniPluginConf {
  type: string;
  [key: string]: unknown;
}

export interface CniConflist {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: unknown[];
  dns?: unknown;
}

export interface CniAttachment {
  containerId: string;
  netns: string;
  ifname: string;
  /** Runtime configuration the plugins asked for through "capabilities" (portMappings, ...). */
  runtimeConfig?: Record<string, unknown>;
}

export class CniError extends Error {}

const SEARCH_PATH = ["/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni"];

/** Directories holding CNI plugins: $CNI_PATH, or the first standard place that has the bridge plugin. */
export function cniPath(): string[] {
  if (process.env.CNI_PATH) return process.env.CNI_PATH.split(":").filter(Boolean);
  const found = SEARCH_PATH.find((d) => existsSync(join(d, "bridge")));
  return found ? [found] : [];
}

function pluginBinary(type: string, path: string[]): string {
  for (const dir of path) {
    const candidate = join(dir, type);
    if (existsSync(candidate)) return candidate;
  }
  throw new CniError(`CNI plugin "${type}" not found in ${path.join(":") || "(no CNI_PATH)"}: install containernetworking-plugins`);
}

/** Runs one plugin, waiting in the event loop (the supervisor serves other containers meanwhile). */
async function invoke(command: "ADD" | "DEL" | "CHECK", conf: Record<string, unknown>, at: CniAttachment, path: string[]): Promise<CniResult | null> {
  const type = String(conf.type);
  const r = Bun.spawn([pluginBinary(type, path)], {
    env: {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: at.containerId,
      CNI_NETNS: at.netns,
      CNI_IFNAME: at.ifname,
      CNI_PATH: path.join(":"),
    },
    stdin: new Blob([JSON.stringify(conf)]),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(r.stdout).text(), new Response(r.stderr).text(), r.exited]);
  const out = stdout.trim();
  if (exitCode !== 0) {
    let msg = stderr.trim().split("\n")[0] || `exit status ${exitCode}`;
    try {
      const err = JSON.parse(out) as { msg?: string; details?: string };
      if (err.msg) msg = err.details ? `${err.msg}: ${err.details}` : err.msg;
    } catch {
      // not JSON: keep stderr
    }
    throw new CniError(`CNI ${command} with the ${type} plugin failed: ${msg}`);
  }
  return out ? (JSON.parse(out) as CniResult) : null;
}

/** The plugin's config as the spec says to pass it: name and version from the list, runtimeConfig, prevResult. */
function pluginInput(list: CniConflist, plugin: CniPluginConf, at: CniAttachment, prev: CniResult | null): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
  const runtimeConfig = Object.fromEntries(Object.entries(at.runtimeConfig ?? {}).filter(([k]) => caps[k]));
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prev) conf.prevResult = prev;
  return conf;
}

export async function cniAdd(list: CniConflist, at: CniAttachment): Promise<CniResult> {
  const path = cniPath();
  let result: CniResult | null = null;
  for (const plugin of list.plugins) result = (await invoke("ADD", pluginInput(list, plugin, at, result), at, path)) ?? result;
  return result ?? {};
}

/** Removes the attachment, last plugin first; every plugin is tried even if one fails. */
export async function cniDel(list: CniConflist, at: CniAttachment, prev: CniResult | null): Promise<void> {
  const path = cniPath();
  let first: Error | null = null;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await invoke("DEL", pluginInput(list, plugin, at, prev), at, path);
    } catch (e) {
      first ??= e as Error;
    }
  }
  if (first) throw first;
}
