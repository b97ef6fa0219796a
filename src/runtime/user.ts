// Who the container's process runs as. An OCI client gives numbers (process.user);
// `mycr run -u NAME` cannot: names mean what the container's own /etc/passwd and
// /etc/group say, and that root filesystem exists only inside init. So the engine
// passes the -u text in an annotation and init resolves it after entering the root
// (docs/spec-extensions.md).
import { readFileSync } from "node:fs";
import type { Spec } from "../spec/types";
import { USER_ANNOTATION } from "./annotations";

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** From the passwd entry; "/" for a uid without one (as docker). */
  home?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^\d+$/;

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function lines(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}

/** The entries of a passwd file (`text`: its content, else read from `path`). */
export function parsePasswd(path = "/etc/passwd", text = readOrEmpty(path)): PasswdEntry[] {
  return lines(text)
    .filter((f) => f.length >= 7 && NUMERIC.test(f[2]!) && NUMERIC.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

/** The entries of a group file (`text`: its content, else read from `path`). */
export function parseGroup(path = "/etc/group", text = readOrEmpty(path)): GroupEntry[] {
  return lines(text)
    .filter((f) => f.length >= 4 && NUMERIC.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(",").filter((m) => m !== "") }));
}

/**
 * Resolves `user[:group]` (names or numbers) against the container's files, as docker
 * does: a name must exist; a uid need not (gid 0, HOME /). Without an explicit group
 * the primary group is the passwd entry's and the group list is, as login's
 * initgroups() makes it, that group plus every /etc/group entry listing the user; an
 * explicit group replaces both.
 */
export function resolveUser(text: string, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const [userPart = "", groupPart, ...rest] = text.split(":");
  if (userPart === "" || rest.length > 0 || groupPart === "") throw new Error(`user "${text}": use USER[:GROUP] (names or numbers)`);
  const entry = NUMERIC.test(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (!entry && !NUMERIC.test(userPart)) throw new Error(`unable to find user ${userPart}: no matching entries in the container's /etc/passwd`);
  const uid = entry?.uid ?? Number(userPart);
  if (groupPart !== undefined) {
    const group = NUMERIC.test(groupPart) ? { gid: Number(groupPart) } : groups.find((g) => g.name === groupPart);
    if (!group) throw new Error(`unable to find group ${groupPart}: no matching entries in the container's /etc/group`);
    return { uid, gid: group.gid, additionalGids: [group.gid], home: entry?.home ?? "/" };
  }
  const gid = entry?.gid ?? 0;
  const member = entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  const additionalGids = [...new Set([gid, ...member])];
  return { uid, gid, additionalGids, home: entry?.home ?? "/" };
}

/** The user the process runs as: the annotation resolved, or process.user as the spec gives it. */
export function effectiveUser(spec: Spec): ResolvedUser {
  const text = spec.annotations?.[USER_ANNOTATION];
  if (text !== undefined) return resolveUser(text, parsePasswd(), parseGroup());
  const u = spec.process!.user;
  return { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids ?? [] };
}
