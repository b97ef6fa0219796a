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

/** As root: the maps are written directly (any ranges). */
export function writeIdMaps(pid: number, uids: IdMapping[], gids: IdMapping[]): void {
  writeMap(pid, "uid_map", uids);
  writeMap(pid, "gid_map", gids);
}
