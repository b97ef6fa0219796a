// A compiled Bun program, by default, reads `bunfig.toml` and `.env` files from the
// directory it is started in: a bunfig's `preload` runs its script before the program's
// first line, and `.env` sets variables the program reads. mycr runs as root, often in a
// directory a container can write (a volume, a bind-mounted project), so a container
// could plant both and wait for the host's admin to type `mycr ...` there. The binary is
// built with those loads off (build.ts); this tries the plant, from inside a container,
// and then every way a user starts mycr in that directory, again and again.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { mycr, type Result } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const dir = join(WORK, `working-directory-files-${process.pid}`);
const volume = join(dir, "volume");
const ROUNDS = 3;
/** What the planted preload writes where it runs (the directory mycr was started in). */
const MARKER = "PRELOADED-AS-HOST-ROOT";

/** The container's side: a bunfig with a preload, the script, and every .env name Bun reads. */
const PLANT = [
  `printf 'preload = ["./evil.js"]\\n' > /data/bunfig.toml`,
  `echo 'require("fs").writeFileSync("${MARKER}", String(process.pid)); console.error("preload ran")' > /data/evil.js`,
  ...[".env", ".env.local", ".env.production", ".env.development"].map((name) => `printf 'MYCR_TRACE=1\\nPLANTED=from-${name}\\n' > /data/${name}`),
].join("; ");

let rootfs: string;

beforeAll(async () => {
  rootfs = busyboxRootfs();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(volume, { recursive: true });
  const r = await mycr(["run", "--rootfs", rootfs, "--network", "none", "-v", `${volume}:/data`, "--", "sh", "-c", PLANT]);
  if (r.exitCode !== 0) throw new Error(`the container could not plant its files: ${r.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Nothing planted took effect: no preload ran, no variable of the .env files was read. */
function expectUntouched(r: Result, what: string): void {
  expect(r.stderr, what).not.toContain("preload ran");
  expect(r.stderr, what).not.toMatch(/^mycr\[\d+\] [\d.]+ms/m); // MYCR_TRACE's lines
  expect(r.stdout, what).not.toContain("from-.env");
  expect(existsSync(join(volume, MARKER)), what).toBe(false);
}

describe("a bunfig.toml or .env planted by a container in mycr's working directory", () => {
  test("the plant is there, as the container wrote it", () => {
    expect(readdirSync(volume).sort()).toEqual([".env", ".env.development", ".env.local", ".env.production", "bunfig.toml", "evil.js"]);
  });

  test("never runs code in mycr nor sets its variables (tried repeatedly, every way of starting mycr)", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const version = await mycr(["--version"], { cwd: volume });
      expect(version.exitCode).toBe(0);
      expectUntouched(version, "--version");

      const list = await mycr(["ps", "-a"], { cwd: volume });
      expect(list.exitCode).toBe(0);
      expectUntouched(list, "ps -a");

      // -e NAME takes NAME's value from mycr's own environment: the .env's must not be there
      const run = await mycr(["run", "--rootfs", rootfs, "--network", "none", "-e", "PLANTED", "--", "sh", "-c", 'echo "[$PLANTED]"'], { cwd: volume });
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toBe("[]\n");
      expectUntouched(run, "run");

      // a detached run starts the supervisor (another process of the binary) from here too
      const name = `wd-files-${process.pid}-${round}`;
      const detached = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, "--network", "none", "-e", "PLANTED", "--", "sh", "-c", 'echo "[$PLANTED]"; sleep 600'], { cwd: volume, timeoutMs: 60_000 });
      expect(detached.exitCode).toBe(0);
      expectUntouched(detached, "run -d");
      let logs = await mycr(["logs", name], { cwd: volume });
      for (let tries = 0; logs.stdout === "" && tries < 50; tries++) {
        await Bun.sleep(100);
        logs = await mycr(["logs", name], { cwd: volume });
      }
      expect(logs.stdout).toBe("[]\n");
      expectUntouched(logs, "logs");
      const removed = await mycr(["rm", "-f", name], { cwd: volume, timeoutMs: 60_000 });
      expect(removed.exitCode).toBe(0);
      expectUntouched(removed, "rm -f");
    }
  }, 240_000);
});
