// An ordinary user for the rootless tests: made with useradd, given a subordinate range
// in /etc/subuid and /etc/subgid, a home (storage: ~/.local/share/mycr) and an
// XDG_RUNTIME_DIR (state: $XDG_RUNTIME_DIR/mycr), all removed again afterwards. Its name
// and places come from the test roots, so two sessions' runs never share one; the leak
// check (leaks.ts) looks at the same places.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chownSync, renameSync } from "node:fs";
import { basename, join } from "node:path";
import { MYCR, TEST_ROOT, TEST_STATE } from "./env";

const tag = new Bun.CryptoHasher("sha256").update(TEST_ROOT).digest("hex").slice(0, 6);

/** The test user's name, home, runtime dir and subordinate range. */
export const ROOTLESS = {
  name: `mycr-rl-${tag}`,
  home: `${TEST_ROOT}-rootless-home`,
  runtimeDir: `${TEST_STATE}-rootless-run`,
  /** A range of its own, far above the ranges useradd hands out (100000 + 65536·n). */
  subStart: 3_000_000 + (Number.parseInt(tag, 16) % 1000) * 65536,
  subCount: 65536,
  /** A second range, for the test of several (far from the first). */
  secondStart: 200_000_000 + (Number.parseInt(tag, 16) % 1000) * 65536,
};

/** Where the user's mycr keeps state and storage (the XDG defaults). */
export function rootlessStores(): { state: string; data: string } {
  return { state: join(ROOTLESS.runtimeDir, "mycr"), data: join(ROOTLESS.home, ".local/share/mycr") };
}

export function rootlessUid(): number | null {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${ROOTLESS.name}:`));
  return line ? Number(line.split(":")[2]) : null;
}

/** Rewrites `file` without the lines of `name` (and with `add`), by rename: never half-written. */
function rewriteSubids(file: string, name: string, add?: string): void {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith(`${name}:`));
  if (add) lines.push(add);
  const tmp = `${file}.mycr-test-${process.pid}`;
  writeFileSync(tmp, lines.map((l) => `${l}\n`).join(""), { mode: 0o644 });
  renameSync(tmp, file);
}

/** The user's one range (true), none (false), or these ranges, in both files. */
export function setSubordinateIds(on: boolean | Array<{ start: number; count: number }>): void {
  const ranges = on === true ? [{ start: ROOTLESS.subStart, count: ROOTLESS.subCount }] : on === false ? [] : on;
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    rewriteSubids(file, ROOTLESS.name, ranges.map((r) => `${ROOTLESS.name}:${r.start}:${r.count}`).join("\n") || undefined);
  }
}

function run(args: string[]): void {
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

export interface RootlessUser {
  uid: number;
  gid: number;
}

/** Creates the user (removing one a crashed run left first). */
export function createRootlessUser(): RootlessUser {
  removeRootlessUser();
  run(["useradd", "--no-create-home", "--home-dir", ROOTLESS.home, "--shell", "/bin/sh", "--user-group", ROOTLESS.name]);
  const uid = rootlessUid()!;
  const gid = Number(readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${ROOTLESS.name}:`))!.split(":")[3]);
  setSubordinateIds(true); // in place of whatever range useradd chose
  for (const dir of [ROOTLESS.home, ROOTLESS.runtimeDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, uid, gid);
  }
  return { uid, gid };
}

/**
 * The user, its subordinate ranges and its two directories. Unless `force`, what the
 * user's mycr left (containers in its stores, its processes) stays for the runner's leak
 * check to report (leaks.ts), which then removes it with `force`.
 */
export function removeRootlessUser(force = true): void {
  const leftovers = rootlessLeftovers().filter((l) => !l.startsWith("rootless test user") && !l.includes("/etc/sub"));
  if (!force && leftovers.length > 0) return;
  const uid = rootlessUid();
  for (const leftover of rootlessLeftovers()) {
    const pid = /^process (\d+) of the rootless test user/.exec(leftover)?.[1];
    if (pid) Bun.spawnSync(["kill", "-KILL", pid]);
  }
  if (uid !== null) Bun.spawnSync(["userdel", ROOTLESS.name], { stderr: "ignore" });
  for (const file of ["/etc/subuid", "/etc/subgid"]) if (existsSync(file)) rewriteSubids(file, ROOTLESS.name);
  rmSync(ROOTLESS.home, { recursive: true, force: true });
  rmSync(ROOTLESS.runtimeDir, { recursive: true, force: true });
}

/** What the test user's mycr left: containers in its stores, its processes, the user itself. */
export function rootlessLeftovers(): string[] {
  const found: string[] = [];
  const { state, data } = rootlessStores();
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const id of list(state)) found.push(`rootless state dir ${join(state, id)}`);
  for (const id of list(join(data, "containers"))) found.push(`rootless container dir ${join(data, "containers", id)}`);
  const uid = rootlessUid();
  if (uid !== null) found.push(`rootless test user ${ROOTLESS.name} (uid ${uid}) still exists`);
  // the user's own processes (its mycr, pasta, its containers' root) and its containers' other users'
  const ours = (id: number) =>
    id === uid || (id >= ROOTLESS.subStart && id < ROOTLESS.subStart + ROOTLESS.subCount) || (id >= ROOTLESS.secondStart && id < ROOTLESS.secondStart + ROOTLESS.subCount);
  for (const pid of list("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const real = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (ours(real) && !/^State:\s+Z/m.test(status)) found.push(`process ${pid} of the rootless test user: ${basename(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "?")}`);
    } catch {
      // gone meanwhile
    }
  }
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    if (existsSync(file) && readFileSync(file, "utf8").split("\n").some((l) => l.startsWith(`${ROOTLESS.name}:`))) found.push(`${file} line of ${ROOTLESS.name}`);
  }
  return found;
}

/** `mycr ARGS` as the test user, with only the environment a login would give it. */
export function asUser(user: RootlessUser, args: string[], env: Record<string, string> = {}, binary = MYCR): string[] {
  const vars = {
    HOME: ROOTLESS.home,
    USER: ROOTLESS.name,
    XDG_RUNTIME_DIR: ROOTLESS.runtimeDir,
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ...env,
  };
  return [
    "setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups",
    "env", "-i", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), binary, ...args,
  ];
}
