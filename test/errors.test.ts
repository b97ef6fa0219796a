// Bad input: one line naming what is wrong, exit 125, nothing left behind.
import { beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_STATE, WORK, mycrEnv } from "./helpers/env";
import { findLeaks, foreignNamespaceProcesses } from "./helpers/leaks";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { explainMountError } from "../src/runtime/rootfs/mounts";
import { SysError } from "../src/sys/errno";

let rootfs: string;
let baseline: Set<string>;
beforeAll(() => {
  rootfs = busyboxRootfs();
  baseline = foreignNamespaceProcesses();
});

async function expectOneLineError(args: string[], message: string): Promise<void> {
  const r = await mycr(args);
  expect(r.stderr).toBe(`mycr: ${message}\n`);
  expect(r.stdout).toBe("");
  expect(r.exitCode).toBe(125);
  expect(findLeaks(baseline)).toEqual([]);
}

test("an unknown flag", async () => {
  await expectOneLineError(["run", "--bogus", "x", "true"], "unknown flag: --bogus");
  await expectOneLineError(["run", "-Z", "true"], "unknown flag: -Z");
});

test("a flag without its value", async () => {
  await expectOneLineError(["run", "--rootfs"], "flag --rootfs needs a value");
});

test("an unknown command", async () => {
  await expectOneLineError(["frobnicate"], 'unknown command "frobnicate" (see mycr --help)');
});

test("a missing command", async () => {
  await expectOneLineError(["run", "--rootfs", rootfs], "no command given: mycr run [flags] COMMAND [ARG...]");
});

test("--rootfs that does not exist or is no directory", async () => {
  await expectOneLineError(["run", "--rootfs", "/no/such/dir", "true"], "--rootfs /no/such/dir: no such directory");
  const file = join(WORK, "not-a-dir");
  writeFileSync(file, "x");
  await expectOneLineError(["run", "--rootfs", file, "true"], `--rootfs ${file}: not a directory`);
});

test("an ordinary user whose MYCR_STATE is not theirs: one line naming it", async () => {
  const proc = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MYCR, "run", "true"], {
    env: mycrEnv(),
  });
  expect(proc.stderr.toString()).toBe(`mycr: MYCR_STATE=${TEST_STATE}: not writable by you (uid 65534); unset MYCR_STATE to use $XDG_RUNTIME_DIR/mycr, or name a directory you own\n`);
  expect(proc.exitCode).toBe(125);
});

test("a kernel without overlayfs is named as such", () => {
  const e = explainMountError(new SysError("mount", "overlay, /x", 19), "overlay") as Error;
  expect(e.message).toBe("the kernel has no overlay filesystem: load it with `modprobe overlay`");
});

test("no stack trace unless --debug", async () => {
  const plain = await mycr(["run", "--rootfs", rootfs, "--", "/bin/sh", "-c", "exit 0", "--bogus"]);
  expect(plain.exitCode).toBe(0); // after the command, flags are the command's
  const r = await mycr(["--debug", "run", "--rootfs", "/no/such/dir", "true"]);
  expect(r.exitCode).toBe(125);
  expect(r.stderr).toContain("mycr: --rootfs /no/such/dir: no such directory");
  expect(r.stderr).toContain("at ");
  const quiet = await mycr(["run", "--rootfs", "/no/such/dir", "true"]);
  expect(quiet.stderr).not.toContain("at ");
});

test("--help and --version work without root and print to stdout", async () => {
  const help = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MYCR, "run", "--help"]);
  expect(help.exitCode).toBe(0);
  expect(help.stdout.toString()).toContain("--rootfs");
  const version = await mycr(["--version"]);
  expect(version.stdout).toMatch(/^mycr version \d+\.\d+\.\d+/);
});
