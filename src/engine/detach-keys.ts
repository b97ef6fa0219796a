// docker's detach keys (--detach-keys, default ctrl-p,ctrl-q): the key sequence that
// leaves an attached container running. Typed keys are watched; a sequence that starts
// to match is held back until it matches (detach) or breaks (then passed on, unchanged).
import { ContainerError } from "../runtime/errors";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/** "ctrl-p,ctrl-q" -> [0x10, 0x11]: ctrl-a..z, ctrl-@ [ \ ] ^ _, or one character each. */
export function parseDetachKeys(text: string): number[] {
  const keys = text.split(",").map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = ctrl[1]!.toUpperCase().charCodeAt(0);
      if (c >= 0x40 && c <= 0x5f) return c & 0x1f;
    } else if (key.length === 1) return key.charCodeAt(0);
    throw new ContainerError(`--detach-keys ${text}: ${JSON.stringify(key)} is not a key; give keys as ctrl-<a-z@[\\]^_> or one character, comma-separated (e.g. ctrl-p,ctrl-q)`);
  });
  return keys;
}

/** Watches typed bytes for the sequence; `feed` returns what to pass on, and whether to detach. */
export class DetachWatcher {
  private matched = 0;
  constructor(private readonly keys: number[]) {}

  feed(chunk: Uint8Array): { pass: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.keys.length > 0 && byte === this.keys[this.matched]) {
        if (++this.matched === this.keys.length) return { pass: Uint8Array.from(out), detach: true };
        continue;
      }
      out.push(...this.keys.slice(0, this.matched)); // held back, then broken: passed on
      this.matched = 0;
      if (this.keys.length > 0 && byte === this.keys[0]) this.matched = 1;
      else out.push(byte);
    }
    return { pass: Uint8Array.from(out), detach: false };
  }
}
