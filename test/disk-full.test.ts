// A full disk: a container that fills it gets ENOSPC like anywhere else, and when mycr
// itself cannot write its files it fails with one line and exit 125, leaving nothing.
// MYCR_ROOT (and MYCR_STATE) go on small tmpfs mounts of our own. Their paths avoid the
// word the leak check looks for in the mount table, and they are unmounted at the end.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBundle } from "./helpers/bundle";
import { foreignNamespaceProcesses } from "./helpers/leaks";
import { mycr } from "./helpers/mycr";
import { settledOwnLeaks } from "./helpers/own-leaks";
import { busyboxRootfs } from "./helpers/rootfs";

const mounts: string[] = [];
let rootfs: string;
let baseline: Set<string>;

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

/** A fresh tmpfs of `options` (size=4m, nr_inodes=...), unmounted after the file. */
function smallFs(options: string): string {
  const dir = `/run/fullfs-${process.pid}-${mounts.length}`;
  mkdirSync(dir, { recursive: true });
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr.toString()}`);
  mounts.push(dir);
  return dir;
}

/** Writes into `dir` until the filesystem has no room (blocks, or inodes with `files`). */
function fill(dir: string, files = false): void {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < 100_000; i++) {
    try {
      if (files) writeFileSync(join(dir, `f${i}`), "");
      else writeFileSync(join(dir, "filler"), chunk, { flag: "a" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOSPC") return;
      throw e;
    }
  }
  throw new Error(`${dir} never filled up`);
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function expectOneLineError(r: { exitCode: number; stdout: string; stderr: string }, mentions: string): void {
  expect(r.exitCode).toBe(125);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("mycr: ");
  expect(lines[0]).toContain(mentions);
  expect(r.stderr).not.toContain("    at ");
}

test("a container writing until the disk is full gets ENOSPC; mycr cleans up and the space comes back", async () => {
  const fs = smallFs("size=4m");
  const script = "dd if=/dev/zero of=/big bs=64k 2>/tmp/dd.err; echo dd=$?; grep -o 'No space left on device' /tmp/dd.err; echo more >> /big || echo append failed";
  const r = await mycr(["run", "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", script], { env: { MYCR_ROOT: fs } });
  expect(r.stdout).toBe("dd=1\nNo space left on device\nappend failed\n");
  expect(r.exitCode).toBe(0);
  expect(entries(join(fs, "containers"))).toEqual([]);
  // What stays is mycr's seccomp cache (a few KiB, shared by later containers); the
  // container's upper dir is gone with it.
  rmSync(join(fs, "cache"), { recursive: true, force: true });
  const st = statfsSync(fs);
  expect(st.bfree).toBe(st.blocks);
  expect(await settledOwnLeaks(baseline, new Set(), [fs])).toEqual([]);
});

test("MYCR_ROOT full: one line naming the file, exit 125, nothing left", async () => {
  const fs = smallFs("size=1m");
  mkdirSync(join(fs, "containers"));
  fill(fs);
  for (const args of [["--rootfs", rootfs, "--network", "none", "true"], ["--network", "none", "true"]]) {
    const r = await mycr(["run", ...args], { env: { MYCR_ROOT: fs } });
    expectOneLineError(r, "no space left on device");
    expect(r.stderr).toContain(join(fs, "containers"));
    expect(entries(join(fs, "containers"))).toEqual([]);
  }
  expect(await settledOwnLeaks(baseline, new Set(), [fs])).toEqual([]);
});

test("MYCR_ROOT out of inodes: one line, exit 125, nothing left", async () => {
  const fs = smallFs("size=4m,nr_inodes=64");
  mkdirSync(join(fs, "containers"));
  fill(fs, true);
  const r = await mycr(["run", "--rootfs", rootfs, "true"], { env: { MYCR_ROOT: fs } });
  expectOneLineError(r, "no space left on device");
  expect(entries(join(fs, "containers"))).toEqual([]);
  expect(await settledOwnLeaks(baseline, new Set(), [fs])).toEqual([]);
});

test("MYCR_STATE full: one line, exit 125, nothing left", async () => {
  const fs = smallFs("size=1m");
  const state = join(fs, "state");
  mkdirSync(state);
  fill(fs);
  const r = await mycr(["run", "--rootfs", rootfs, "true"], { env: { MYCR_STATE: state } });
  expectOneLineError(r, "no space left on device");
  expect(entries(state)).toEqual([]);
  // The OCI face keeps only state there: create fails the same way.
  const id = `full-${process.pid}`;
  const c = await mycr(["create", "--bundle", await makeBundle(["true"]), id], { env: { MYCR_STATE: state } });
  expectOneLineError(c, "no space left on device");
  expect(entries(state)).toEqual([]);
  expect(await settledOwnLeaks(baseline, new Set([id]), [fs])).toEqual([]);
});
