// `mycr info`, checked against what the host and the other commands say.
import { afterAll, expect, test } from "bun:test";
import { cpus, release } from "node:os";
import { TEST_ROOT, TEST_STATE } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const name = `info-${process.pid}`;
afterAll(async () => {
  await mycr(["rm", "-f", name]);
});

function cgroupVersion(): string {
  const fs = Bun.spawnSync(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"]).stdout.toString().trim();
  return fs === "cgroup2fs" ? "2" : "1";
}

test("info counts the containers ps shows, the images images shows, and reads the host as it is", async () => {
  expect((await mycr(["run", "-d", "--name", name, "--rootfs", busyboxRootfs(), "--network", "none", "--", "sleep", "60"])).exitCode).toBe(0);
  const r = await mycr(["info", "--format", "json"]);
  expect(r.exitCode).toBe(0);
  const info = JSON.parse(r.stdout);
  const running = (await mycr(["ps", "-q"])).stdout.trim().split("\n").filter(Boolean).length;
  const all = (await mycr(["ps", "-aq"])).stdout.trim().split("\n").filter(Boolean).length;
  const images = new Set((await mycr(["images", "-q"])).stdout.trim().split("\n").filter(Boolean)).size;
  expect(running).toBeGreaterThanOrEqual(1);
  expect(info).toMatchObject({
    running,
    images,
    storageRoot: TEST_ROOT,
    stateRoot: TEST_STATE,
    cgroupVersion: cgroupVersion(),
    kernelVersion: release(),
    cpus: cpus().length,
    serverVersion: (await mycr(["--version"])).stdout.trim().replace(/^mycr version /, ""),
  });
  expect(info.containers).toBeGreaterThanOrEqual(all);
  expect(["overlay", "bind", "memfd"]).toContain(info.binarySeal);
  const text = await mycr(["info"]);
  expect(text.stdout).toContain(`Containers: ${info.containers}\n Running: ${running}\n`);
  expect(text.stdout).toContain(`Cgroup Version: ${info.cgroupVersion}`);
});
