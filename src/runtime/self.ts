// How mycr starts itself again (init, and later the monitor). In a compiled binary
// process.execPath is mycr; from source it is bun and the entry script must follow.
import { resolve } from "node:path";

const compiled = import.meta.path.startsWith("/$bunfs/") || process.argv[1]?.startsWith("/$bunfs/") === true;

export function selfCommand(...args: string[]): string[] {
  if (compiled) return [process.execPath, ...args];
  return [process.execPath, resolve(import.meta.dir, "../main.ts"), ...args];
}
