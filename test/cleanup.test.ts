// Whatever way a run ends, nothing of it stays on the host; after mycr itself is
// SIGKILLed, `mycr gc` removes what it left.
import { beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { findLeaks, foreignNamespaceProcesses } from "./helpers/leaks";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxBinary, busyboxRootfs } from "./helpers/rootfs";
import { alive, waitForContainerPid } from "./helpers/containers";

let rootfs: string;
let baseline: Set<string>;
beforeAll(() => {
  rootfs = busyboxRootfs();
  baseline = foreignNamespaceProcesses();
});

async function expectNothingLeft(): Promise<void> {
  const deadline = Date.now() + 2000;
  while (findLeaks(baseline).length > 0 && Date.now() < deadline) await Bun.sleep(20);
  expect(findLeaks(baseline)).toEqual([]);
}

test("after a normal exit", async () => {
  expect((await mycr(["run", "--rootfs", rootfs, "true"])).exitCode).toBe(0);
  await expectNothingLeft();
});

test("after a failing command", async () => {
  expect((await mycr(["run", "--rootfs", rootfs, "--", "sh", "-c", "touch /x; exit 3"])).exitCode).toBe(3);
  await expectNothingLeft();
});

test("after init fails while setting up the container", async () => {
  // A root filesystem whose /proc is a file: mounting /proc inside must fail.
  const broken = join(WORK, "broken-rootfs");
  mkdirSync(join(broken, "bin"), { recursive: true });
  copyFileSync(busyboxBinary(), join(broken, "bin/busybox"));
  chmodSync(join(broken, "bin/busybox"), 0o755);
  writeFileSync(join(broken, "proc"), "not a directory\n");
  const r = await mycr(["run", "--rootfs", broken, "/bin/busybox", "true"]);
  expect(r.exitCode).toBe(125);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toStartWith("mycr: ");
  expect(r.stderr).toContain("/proc");
  await expectNothingLeft();
});

test("after SIGINT and SIGTERM to mycr", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", "trap 'exit 0' INT TERM; echo ready; while :; do sleep 0.05; done"]);
    await bg.waitFor("ready");
    bg.proc.kill(signal);
    expect((await bg.result()).exitCode).toBe(0);
    await expectNothingLeft();
  }
});

test("after the container is killed with SIGKILL", async () => {
  const marker = `1000.${process.pid}3`;
  const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sleep", marker]);
  process.kill(await waitForContainerPid(marker), "SIGKILL");
  expect((await bg.result()).exitCode).toBe(137);
  await expectNothingLeft();
});

test("after mycr itself is SIGKILLed, the container dies with it and mycr gc removes the rest", async () => {
  const marker = `1000.${process.pid}4`;
  const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", `echo data > /file; sleep ${marker}`]);
  const pid = await waitForContainerPid(marker);
  bg.proc.kill("SIGKILL");
  await bg.result();
  const deadline = Date.now() + 2000;
  while (alive(pid) && Date.now() < deadline) await Bun.sleep(10);
  expect(alive(pid)).toBe(false);
  // The state and the container's files are still there: nobody was left to remove them.
  expect(findLeaks(baseline).length).toBeGreaterThan(0);
  const gc = await mycr(["gc"]);
  expect(gc.exitCode).toBe(0);
  expect(gc.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  await expectNothingLeft();
});

test("mycr gc leaves running containers alone", async () => {
  const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", "echo ready; while :; do sleep 0.05; done"]);
  await bg.waitFor("ready");
  const gc = await mycr(["gc"]);
  expect(gc.stdout).toBe("");
  expect(bg.proc.exitCode).toBeNull();
  bg.proc.kill("SIGKILL");
  await bg.result();
  await mycr(["gc"]);
  await expectNothingLeft();
});
