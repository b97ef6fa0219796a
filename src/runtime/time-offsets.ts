// linux.timeOffsets: the clocks of a new time namespace, written to
// /proc/PID/timens_offsets after the child unshared it and before any process enters it
// (the kernel freezes them then).
import { writeFileSync } from "node:fs";
import type { Spec } from "../spec/types";
import { ContainerError } from "./errors";

type Offsets = NonNullable<NonNullable<Spec["linux"]>["timeOffsets"]>;

/** "<clock> <secs> <nanosecs>" per line, as timens_offsets reads them. */
export function formatTimeOffsets(offsets: Offsets): string {
  return Object.entries(offsets)
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join("");
}

export function writeTimeOffsets(pid: number, offsets: Offsets): void {
  const text = formatTimeOffsets(offsets);
  if (text === "") return;
  try {
    writeFileSync(`/proc/${pid}/timens_offsets`, text);
  } catch (e) {
    throw new ContainerError(`linux.timeOffsets: the kernel refused "${text.trim().replace(/\n/g, ", ")}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
