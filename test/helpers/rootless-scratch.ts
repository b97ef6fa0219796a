// What the rootless test files share: a scratch directory with a busybox root of the test
// user's own (a root of root's files would be nobody's in its user namespace), and a way
// to run a program as that user with its output through files (a container left running
// must not hold our pipes).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./env";
import { busyboxRootfs } from "./rootfs";
import { asUser, type RootlessUser } from "./rootless-user";

export interface UserResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function userScratch(user: RootlessUser, prefix: string): { scratch: string; rootfs: string } {
  mkdirSync(WORK, { recursive: true });
  const scratch = mkdtempSync(join(WORK, prefix));
  chmodSync(scratch, 0o755);
  const rootfs = join(scratch, "rootfs");
  Bun.spawnSync(["cp", "-a", busyboxRootfs(), rootfs]);
  Bun.spawnSync(["chown", "-R", `${user.uid}:${user.gid}`, rootfs]);
  return { scratch, rootfs };
}

let captures = 0;

/** `binary ARGS` (mycr by default) as the test user, killed after `timeoutMs`. */
export async function runAsUser(
  user: RootlessUser,
  scratch: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; binary?: string } = {},
): Promise<UserResult> {
  const base = join(scratch, `out-${++captures}`);
  const proc = Bun.spawn(asUser(user, args, opts.env, opts.binary), { stdin: "ignore", stdout: Bun.file(`${base}.out`), stderr: Bun.file(`${base}.err`) });
  const timer = setTimeout(() => proc.kill(9), opts.timeoutMs ?? 60_000);
  await proc.exited;
  clearTimeout(timer);
  const result = { exitCode: proc.exitCode ?? 128, stdout: readFileSync(`${base}.out`, "utf8"), stderr: readFileSync(`${base}.err`, "utf8") };
  rmSync(`${base}.out`, { force: true });
  rmSync(`${base}.err`, { force: true });
  return result;
}
