// Issue 19, bug 1: `mycr import` of a layer a running container uses finishes at once
// ("already exists", as pull says) instead of waiting for ever on the layer's lock while
// holding the store's pulls lock (which every rmi and prune then waits for).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let dir: string;
const tag = `inuse-${process.pid}`;
const name = `import-inuse-${process.pid}`;
beforeAll(() => {
  dir = mkdtempSync(join(WORK, "import-inuse-"));
});
afterAll(async () => {
  await mycr(["rm", "-f", name]);
  await mycr(["rmi", `${tag}:1`, `${tag}:2`]);
  rmSync(dir, { recursive: true, force: true });
});

test("import of a layer a running container uses says 'already exists' and rmi is not held up", async () => {
  const tar = join(dir, "rootfs.tar");
  expect(Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-cf", tar, "."]).exitCode).toBe(0);
  expect((await mycr(["import", tar, `${tag}:1`])).exitCode).toBe(0);
  const run = await mycr(["run", "-d", "--name", name, "--network", "none", "--image", `${tag}:1`, "sleep", "600"]);
  expect(run.exitCode).toBe(0);

  const again = await mycr(["import", tar, `${tag}:2`], { timeoutMs: 20_000 });
  expect(again.exitCode).toBe(0); // 137 when killed by the timeout: it hung
  expect(again.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
  expect(again.stderr).toMatch(/^mycr: [a-f0-9]{12}: already exists\n$/);

  // the store's lock is free again: rmi of the new name goes through at once
  const rmi = await mycr(["rmi", `${tag}:2`], { timeoutMs: 20_000 });
  expect(rmi.exitCode).toBe(0);
  const ran = await mycr(["exec", name, "echo", "still running"]);
  expect(ran.stdout).toBe("still running\n");
}, 60_000);
