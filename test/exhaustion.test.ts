// Exhaustion defaults: a container cannot take the host's memory through a tmpfs (/tmp,
// /dev/shm, a --tmpfs without size=) and --storage-opt size is refused in one line where
// MYCR_ROOT's filesystem cannot enforce it. The project-quota enforcement itself needs a
// kernel with quota formats (this host's has none): test/disk-quota.test.ts runs it in a VM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT } from "./helpers/env";
import { foreignNamespaceProcesses } from "./helpers/leaks";
import { mycr, type Result } from "./helpers/mycr";
import { settledOwnLeaks } from "./helpers/own-leaks";
import { busyboxRootfs } from "./helpers/rootfs";

/** Every run here has --network none: a veth on the host is another test's (run concurrently). */
async function ownLeaks(paths: string[] = []): Promise<string[]> {
  return (await settledOwnLeaks(baseline, new Set(), paths)).filter((l) => !l.startsWith("network device "));
}

let rootfs: string;
let baseline: Set<string>;
const mounts: string[] = [];

beforeAll(() => {
  rootfs = busyboxRootfs();
  baseline = foreignNamespaceProcesses();
});

afterAll(() => {
  for (const dir of mounts) {
    Bun.spawnSync(["umount", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

const run = (flags: string[], script: string) => mycr(["run", "--rootfs", rootfs, "--network", "none", ...flags, "--", "sh", "-c", script]);

/** `df -k` of each path inside the container: its size in KiB. */
const DF = (paths: string[]) => paths.map((p) => `df -k ${p} | tail -n 1 | awk '{print "${p}", $2}'`).join("; ");

/** Writes 1 MiB blocks past `mib` into `file` and prints dd's complaint. */
const FILL = (file: string, mib: number) => `dd if=/dev/zero of=${file} bs=1M count=${mib} 2>&1 | grep -o 'No space left on device'`;

function containers(root = TEST_ROOT): string[] {
  try {
    return readdirSync(join(root, "containers"));
  } catch {
    return [];
  }
}

function expectOneLine(r: Result, ...mentions: string[]): void {
  expect(r.exitCode).toBe(125);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("mycr: ");
  for (const m of mentions) expect(lines[0]).toContain(m);
}

test("memory exhaustion: /tmp is a 64 MiB tmpfs by default and writing past it fails with ENOSPC", async () => {
  const r = await run([], `${DF(["/tmp"])}; ${FILL("/tmp/big", 65)}; grep ' /tmp ' /proc/mounts | grep -o 'size=[0-9]*k'`);
  expect(r.stdout).toBe("/tmp 65536\nNo space left on device\nsize=65536k\n");
  expect(r.exitCode).toBe(0);
});

test("memory exhaustion: with --memory below 128m, /tmp is half the limit (ENOSPC, not an OOM kill)", async () => {
  const r = await run(["--memory", "32m"], `${DF(["/tmp"])}; ${FILL("/tmp/big", 17)}`);
  expect(r.stdout).toBe("/tmp 16384\nNo space left on device\n");
  expect(r.exitCode).toBe(0);
});

test("--tmpfs /tmp:size=1g replaces the default /tmp; a --tmpfs without size= gets the default 64 MiB", async () => {
  const r = await run(["--tmpfs", "/tmp:size=1g", "--tmpfs", "/scratch", "--read-only"], `${DF(["/tmp", "/scratch"])}; grep -c ' /tmp ' /proc/mounts; ${FILL("/scratch/big", 65)}`);
  expect(r.stdout).toBe("/tmp 1048576\n/scratch 65536\n1\nNo space left on device\n");
  expect(r.exitCode).toBe(0);
});

test("memory exhaustion: /dev/shm is 64 MiB by default; --shm-size sets it (docker's units) and writing past it fails with ENOSPC", async () => {
  const byDefault = await run([], DF(["/dev/shm"]));
  expect(byDefault.stdout).toBe("/dev/shm 65536\n");
  for (const [size, kib] of [["8m", 8192], ["16777216", 16384], ["2048k", 2048], ["1g", 1048576]] as const) {
    const r = await run(["--shm-size", size], DF(["/dev/shm"]));
    expect(r.stdout).toBe(`/dev/shm ${kib}\n`);
    expect(r.exitCode).toBe(0);
  }
  const full = await run(["--shm-size", "8m"], `${FILL("/dev/shm/big", 9)}; ls -l /dev/shm/big | awk '{print $5}'`);
  expect(full.stdout).toBe("No space left on device\n8388608\n");
});

test("bad --shm-size values: one line naming the value, exit 125, nothing left", async () => {
  const before = containers();
  for (const bad of ["0", "-1", "abc", "1x", "0m", ""]) {
    expectOneLine(await run(["--shm-size", bad], "true"), "--shm-size");
  }
  expectOneLine(await run(["--shm-size", "8m", "--tmpfs", "/dev/shm"], "true"), "--shm-size", "/dev/shm");
  expect(containers()).toEqual(before);
  expect(await ownLeaks()).toEqual([]);
});

test("disk exhaustion: --storage-opt size is refused in one line where MYCR_ROOT cannot enforce it (the host's filesystem)", async () => {
  const before = containers();
  // This host's root: ext4 without project quotas (its kernel has no quota formats at all).
  const plain = await run(["--storage-opt", "size=10m"], "true");
  expectOneLine(plain, "--storage-opt size needs MYCR_ROOT on xfs or ext4 mounted with prjquota", `${TEST_ROOT} is on ext4 without project quotas`);
  // A MYCR_ROOT on tmpfs: named as such.
  const dir = `/run/quota-tmpfs-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir]).exitCode).toBe(0);
  mounts.push(dir);
  const onTmpfs = await mycr(["run", "--rootfs", rootfs, "--network", "none", "--storage-opt", "size=10m", "true"], { env: { MYCR_ROOT: dir } });
  expectOneLine(onTmpfs, `${dir} is on tmpfs`);
  expect(readdirSync(dir)).toEqual([]);
  expect(containers()).toEqual(before);
  expect(await ownLeaks([dir])).toEqual([]);
});

test("--storage-opt: unknown keys and bad sizes are refused in one line, exit 125, nothing left", async () => {
  const before = containers();
  for (const [bad, says] of [["foo=1", "unknown option"], ["size", "unknown option"], ["inodes=100", "unknown option"], ["size=abc", "not a size"], ["size=0", "more than 0"]] as const) {
    expectOneLine(await run(["--storage-opt", bad], "true"), `--storage-opt ${bad}`, says);
  }
  expect(containers()).toEqual(before);
});

test("the OCI face is unchanged: --shm-size and --storage-opt are refused with --bundle and unknown to create", async () => {
  for (const flag of [["--shm-size", "8m"], ["--storage-opt", "size=10m"]]) {
    expectOneLine(await mycr(["run", "--bundle", "/nonexistent", ...flag, "quota-bundle"]), `${flag[0]} does not apply to --bundle`);
    expectOneLine(await mycr(["create", "--bundle", "/nonexistent", ...flag, "quota-create"]), `unknown flag: ${flag[0]}`);
  }
});
