// The subordinate ids a user may map into a user namespace: lines NAME_OR_UID:START:COUNT
// in /etc/subuid and /etc/subgid (shadow's subuid(5)), which newuidmap/newgidmap check
// again on their side: what we read only decides what we ask for.
import { readFileSync } from "node:fs";

export interface IdRange {
  start: number;
  count: number;
}

/** The ranges `file` gives the user (by name or by number), in file order. */
export function subordinateRanges(text: string, user: { name?: string; id: number }): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (owner === undefined || start === undefined || count === undefined) continue;
    if (owner !== user.name && owner !== String(user.id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isSafeInteger(range.start) && Number.isSafeInteger(range.count) && range.count > 0) ranges.push(range);
  }
  return ranges;
}

export function readSubordinateRanges(file: string, user: { name?: string; id: number }): IdRange[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return subordinateRanges(text, user);
}

/** The user's login name from /etc/passwd (subuid lines usually name it), if it has one. */
export function userName(uid: number, passwd = "/etc/passwd"): string | undefined {
  try {
    for (const line of readFileSync(passwd, "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && f[2] === String(uid)) return f[0];
    }
  } catch {
    // no passwd: numbers only
  }
  return undefined;
}
