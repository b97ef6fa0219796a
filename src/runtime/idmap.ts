// Id mappings of a user namespace (linux.uidMappings/gidMappings), written from outside
// into the child's /proc/PID/{uid,gid}_map while it waits (spawn-init.ts).
import { writeFileSync } from "node:fs";
import type { IdMapping } from "../spec/types";
import { ContainerError } from "./errors";

/** The kernel's format: "inside outside count" per line. */
export function formatIdMap(mappings: IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

function writeMap(pid: number, file: "uid_map" | "gid_map", mappings: IdMapping[]): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, formatIdMap(mappings));
  } catch (e) {
    const what = file === "uid_map" ? "linux.uidMappings" : "linux.gidMappings";
    throw new ContainerError(`${what}: the kernel refused ${file} "${formatIdMap(mappings).trim().replace(/\n/g, ", ")}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * newuidmap/newgidmap (Debian's uidmap): setuid helpers that write maps an ordinary user
 * may have, the ranges /etc/subuid and /etc/subgid give them.
 */
function helperMap(pid: number, helper: "newuidmap" | "newgidmap", mappings: IdMapping[]): void {
  const args = mappings.flatMap((m) => [m.containerID, m.hostID, m.size].map(String));
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    r = Bun.spawnSync([helper, String(pid), ...args], { stdout: "ignore", stderr: "pipe" });
  } catch {
    throw new ContainerError(`${helper} is needed to map ids without root: install it (apt-get install uidmap)`);
  }
  if (r.exitCode !== 0) {
    const why = r.stderr?.toString().trim().split("\n").pop() ?? `exit status ${r.exitCode}`;
    throw new ContainerError(`${helper} ${args.join(" ")}: ${why}`);
  }
}

/** The one mapping an unprivileged process may write itself: its own id, once (user_namespaces(7)). */
function onlyOwnId(mappings: IdMapping[], own: number | undefined): boolean {
  return mappings.length === 1 && mappings[0]!.size === 1 && mappings[0]!.hostID === own;
}

/**
 * Root writes the maps directly (any ranges); anyone else too when a map is just its own
 * id (runc spec --rootless: no helper needed, as runc does), else through
 * newuidmap/newgidmap. A gid map written without privilege needs setgroups denied first.
 */
export function writeIdMaps(pid: number, uids: IdMapping[], gids: IdMapping[]): void {
  if (process.getuid?.() === 0) {
    writeMap(pid, "uid_map", uids);
    writeMap(pid, "gid_map", gids);
    return;
  }
  if (onlyOwnId(uids, process.geteuid?.())) writeMap(pid, "uid_map", uids);
  else helperMap(pid, "newuidmap", uids);
  if (onlyOwnId(gids, process.getegid?.())) {
    writeFileSync(`/proc/${pid}/setgroups`, "deny");
    writeMap(pid, "gid_map", gids);
  } else helperMap(pid, "newgidmap", gids);
}
