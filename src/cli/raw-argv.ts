// The command line exactly as the kernel holds it. Bun decodes process.argv as UTF-8
// and puts U+FFFD where bytes are not valid UTF-8; /proc/self/cmdline still has them.
// Its last words are ours (a compiled mycr: [exe, args...]; from source: [bun,
// main.ts, args...]; process.argv has two words before the arguments either way).
import { readNulSeparated } from "../sys/bytes";

/** Escaped bytes and U+FFFD runs as one mark each: how two decodings of one word compare. */
function shape(word: string): string {
  return word.replace(/[\ufffd\udc80-\udcff]+/g, "\ufffd");
}

/**
 * mycr's arguments with every byte kept (sys/bytes.ts). When /proc/self/cmdline cannot
 * be read or does not end with the words Bun saw, Bun's words are used, and one that
 * holds U+FFFD is refused by the caller: it may have been another byte once. A served
 * run's supervisor passes its client's words and command line (cli/served-run.ts).
 */
export function commandLineArgs(seen = process.argv.slice(2), raw = readNulSeparated("/proc/self/cmdline")): { args: string[]; exact: boolean } {
  if (raw && raw.length >= seen.length) {
    const ours = raw.slice(raw.length - seen.length);
    if (ours.every((w, i) => shape(w) === shape(seen[i]!))) return { args: ours, exact: true };
  }
  return { args: seen, exact: false };
}

