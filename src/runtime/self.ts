// How mycr starts itself again (init, exec's process, the monitor). In a compiled binary
// process.execPath is mycr; from source it is bun and the entry script must follow.
import { resolve } from "node:path";
import { sealReadOnly, type SealKind, type SealedFile } from "../sys/sealed-exe";
import { trace } from "./trace";

const compiled = import.meta.path.startsWith("/$bunfs/") || process.argv[1]?.startsWith("/$bunfs/") === true;

function withEntry(program: string, args: string[]): string[] {
  if (compiled) return [program, ...args];
  return [program, resolve(import.meta.dir, "../main.ts"), ...args];
}

/** mycr on the host's side (the monitor): the binary as it is. */
export function selfCommand(...args: string[]): string[] {
  return withEntry(process.execPath, args);
}

let sealed: SealedFile | undefined;

function seal(): SealedFile {
  const made = sealReadOnly(process.execPath, sealWays());
  trace(`self: sealed (${made.kind})`);
  return made;
}

/** Which way this host seals the binary (mycr info): overlay, bind or memfd. */
export function containerSelfSeal(): string {
  sealed ??= seal();
  return sealed.kind;
}

/** Which seal this process uses: the best one, or MYCR_SEAL (tests of the fallbacks). */
function sealWays(): SealKind[] | undefined {
  const forced = process.env.MYCR_SEAL;
  if (forced === "overlay" || forced === "bind" || forced === "memfd") return [forced];
  return undefined;
}

/**
 * mycr as it enters a container (init, exec): the binary through a read-only seal
 * (sys/sealed-exe.ts), so that nothing in the container can write to the host's file
 * through /proc/PID/exe. Sealed once per process; the fd stays open while we live.
 */
export function containerSelfCommand(...args: string[]): { command: string[]; argv0: string } {
  sealed ??= seal();
  // argv[0] "mycr", so ps shows "mycr init" rather than the /proc path it was started by.
  return { command: withEntry(`/proc/${process.pid}/fd/${sealed.fd}`, args), argv0: "mycr" };
}
