// Where the tests find mycr and keep their files. Tests use their own MYCR_ROOT and
// MYCR_STATE so a developer's real containers are never touched or counted as leaks.
import { resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const MYCR = process.env.MYCR_BIN ?? resolve(REPO, "dist/mycr");
export const WORK = resolve(REPO, ".test-work");
export const TEST_ROOT = process.env.MYCR_TEST_ROOT ?? "/var/lib/mycr-test";
export const TEST_STATE = process.env.MYCR_TEST_STATE ?? "/run/mycr-test";

/** Environment for every mycr the tests start. */
export function mycrEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    MYCR_ROOT: TEST_ROOT,
    MYCR_STATE: TEST_STATE,
    // The way to start containers and to get mycr's C, when the run of the tests chooses
    // one (`MYCR_INIT=native bun test/run.ts ...` runs a file's containers with the native init).
    ...(process.env.MYCR_INIT ? { MYCR_INIT: process.env.MYCR_INIT } : {}),
    ...(process.env.MYCR_NATIVE ? { MYCR_NATIVE: process.env.MYCR_NATIVE } : {}),
    ...extra,
  };
}
