// The programs a bench compares, each run from a copy it has just written. How fast a
// program starts depends on how its file sits in the page cache, not only on what is in
// it: on a host that pages out cold memory (this development machine runs DAMON's
// `pageout` scheme: pages untouched for a minute are reclaimed), a binary built or last
// run some minutes ago comes back into the cache page by page, and then starts
// measurably slower than a copy written just now (docs/performance.md, "A binary's page
// cache"). A fresh copy of each puts both sides of a comparison on the same footing.
import { chmodSync, copyFileSync } from "node:fs";
import { basename, join } from "node:path";

export function freshCopy(path: string, dir: string, name = basename(path)): string {
  const copy = join(dir, name);
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return copy;
}
