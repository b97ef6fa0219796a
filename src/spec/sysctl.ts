// Which kernel parameters (sysctls) a container may set: only those that belong to one
// of its own namespaces. Anything else would change the host for everyone.
import type { NamespaceType } from "./types";

const IPC_KEYS = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);
const UTS_KEYS = new Set(["kernel.hostname", "kernel.domainname"]);

/** The namespace a sysctl belongs to, or null when it is host-wide. Keys use dots ("net.ipv4.ip_forward"). */
export function sysctlNamespace(key: string): NamespaceType | null {
  if (IPC_KEYS.has(key) || key.startsWith("fs.mqueue.")) return "ipc";
  if (key.startsWith("net.")) return "network";
  if (UTS_KEYS.has(key)) return "uts";
  return null;
}

/** "net/ipv4/ip_forward" and "net.ipv4.ip_forward" name the same parameter. */
export function sysctlKey(key: string): string {
  return key.replaceAll("/", ".");
}

/** Its file under /proc/sys. */
export function sysctlPath(key: string): string {
  return `/proc/sys/${sysctlKey(key).replaceAll(".", "/")}`;
}

/** Why `key` may not be set in a container with these namespaces of its own, or null when it may. */
export function sysctlProblem(key: string, ownNamespaces: Set<NamespaceType>): string | null {
  const k = sysctlKey(key);
  if (k.includes("..") || k.startsWith(".") || k === "") return `"${key}" is not a kernel parameter name`;
  const ns = sysctlNamespace(k);
  if (ns === null) return `${k} is not namespaced: setting it would change the host (only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.* and kernel.hostname/domainname can be set)`;
  if (!ownNamespaces.has(ns)) return `${k} belongs to the ${ns} namespace, and the container has no ${ns} namespace of its own`;
  return null;
}
