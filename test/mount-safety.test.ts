// A root filesystem is untrusted: its symlinks must never lead a mount out of it.
// /data -> /etc and /rel -> ../../../../etc inside the root mean the root's /etc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxBinary } from "./helpers/rootfs";
import { close } from "../src/sys";
import { forceWalkForTests, openInRoot } from "../src/runtime/rootfs/paths";

const hostile = join(WORK, "hostile-rootfs");
const volume = join(WORK, "hostile-volume");
const MARK = `mycr-escape-test-${process.pid}`;

beforeAll(() => {
  rmSync(hostile, { recursive: true, force: true });
  for (const d of ["bin", "etc", "proc", "dev", "sys", "tmp"]) mkdirSync(join(hostile, d), { recursive: true });
  copyFileSync(busyboxBinary(), join(hostile, "bin/busybox"));
  chmodSync(join(hostile, "bin/busybox"), 0o755);
  for (const applet of ["sh", "cat", "ls", "grep", "cut"]) symlinkSync("busybox", join(hostile, "bin", applet));
  writeFileSync(join(hostile, "etc/inside"), "the root's own /etc\n");
  symlinkSync("/etc", join(hostile, "data"));
  symlinkSync("../../../../etc", join(hostile, "rel"));
  symlinkSync("/made/here", join(hostile, "dangling"));
  rmSync(volume, { recursive: true, force: true });
  mkdirSync(volume, { recursive: true });
  writeFileSync(join(volume, MARK), "volume content\n");
});

afterAll(() => {
  rmSync(hostile, { recursive: true, force: true });
  rmSync(volume, { recursive: true, force: true });
});

function expectHostUntouched(): void {
  expect(existsSync(join("/etc", MARK))).toBe(false);
  expect(existsSync("/made/here")).toBe(false);
  expect(existsSync(join("/etc", `${MARK}-dir`))).toBe(false);
}

describe("volumes over symlinks in the root", () => {
  for (const dest of ["/data", "/rel", "/data/../../../etc"]) {
    test(`-v ...:${dest} lands on the root's /etc, not the host's`, async () => {
      const r = await mycr(["run", "--rootfs", hostile, "-v", `${volume}:${dest}`, "--", "/bin/sh", "-c", `cat /etc/${MARK}; grep -c ' /etc ' /proc/self/mountinfo`]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("volume content\n1\n");
      expectHostUntouched();
    });
  }

  test("a mount point behind a dangling symlink is created inside the root", async () => {
    const r = await mycr(["run", "--rootfs", hostile, "--tmpfs", "/dangling/sub", "--", "/bin/sh", "-c", "grep -c ' /made/here/sub ' /proc/self/mountinfo"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1\n");
    expectHostUntouched();
  });
});

describe("openInRoot, with openat2 and with the userspace walk", () => {
  for (const mode of ["openat2", "walk"] as const) {
    test(`${mode}: paths resolve inside the root and missing parts are created there`, () => {
      forceWalkForTests(mode === "walk");
      try {
        const cases: Array<[string, string]> = [
          ["/data", "etc"],
          ["/rel", "etc"],
          ["/../../data/../etc", "etc"],
          [`/data/${MARK}-dir/x`, `etc/${MARK}-dir/x`],
          [`/rel/${MARK}-dir/y`, `etc/${MARK}-dir/y`],
        ];
        for (const [path, expected] of cases) {
          const fd = openInRoot(hostile, path, "dir");
          try {
            expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe(join(hostile, expected));
          } finally {
            close(fd);
          }
        }
        const file = openInRoot(hostile, `/rel/${MARK}-file`, "file");
        close(file);
        expect(existsSync(join(hostile, "etc", `${MARK}-file`))).toBe(true);
        expectHostUntouched();
        expect(existsSync(join("/etc", `${MARK}-file`))).toBe(false);
      } finally {
        forceWalkForTests(false);
        rmSync(join(hostile, "etc", `${MARK}-dir`), { recursive: true, force: true });
        rmSync(join(hostile, "etc", `${MARK}-file`), { force: true });
      }
    });
  }
});
