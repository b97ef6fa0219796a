// The container's /etc/resolv.conf and /etc/hosts.
import { existsSync, readFileSync } from "node:fs";

const STUB = /^nameserver\s+127\.0\.0\.53\s*$/m;

/**
 * The host's resolv.conf, except that systemd-resolved's stub (127.0.0.53, unreachable
 * from another network namespace) is replaced by the upstream servers it uses.
 * --dns replaces the name servers.
 */
export function resolvConf(dnsServers: string[]): string {
  let text = existsSync("/etc/resolv.conf") ? readFileSync("/etc/resolv.conf", "utf8") : "";
  if (STUB.test(text) && existsSync("/run/systemd/resolve/resolv.conf")) text = readFileSync("/run/systemd/resolve/resolv.conf", "utf8");
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const others = lines.filter((l) => !/^nameserver\s/.test(l));
  let servers = lines.filter((l) => /^nameserver\s/.test(l) && !/\s127\./.test(l));
  if (dnsServers.length > 0) servers = dnsServers.map((s) => `nameserver ${s}`);
  if (servers.length === 0) servers = ["nameserver 8.8.8.8"]; // as docker does when the host has none usable
  return [...servers, ...others].join("\n") + "\n";
}

/** localhost, the container's own name(s) at its address, and --add-host entries. */
export function hostsFile(ip: string | null, names: string[], extra: Array<{ host: string; ip: string }>): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  if (ip) lines.push(`${ip}\t${names.join(" ")}`);
  else lines.push(`127.0.1.1\t${names.join(" ")}`);
  for (const e of extra) lines.push(`${e.ip}\t${e.host}`);
  return lines.join("\n") + "\n";
}

export function parseAddHost(text: string): { host: string; ip: string } {
  const m = /^([a-zA-Z0-9.-]+):([0-9a-fA-F.:]+)$/.exec(text);
  if (!m) throw new Error(`--add-host ${text}: use HOST:IP`);
  return { host: m[1]!, ip: m[2]! };
}
