// A minimal root filesystem made from the host's static busybox (apt: busybox-static),
// built once per test run and shared read-only by the tests (it is only ever a lower layer).
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./env";

const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

export function busyboxBinary(): string {
  const found = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error("busybox not found: apt-get install busybox-static");
  return found;
}

/** Bumped when the contents change, so a rootfs left by an older run is rebuilt. */
const VERSION_FILE = "etc/mycr-test-rootfs-2";

/**
 * Path of a busybox root filesystem: /bin with every applet, /etc/passwd and group
 * with root, nobody and `app` (1000:1000, also in wheel=10 and audio=29).
 */
export function busyboxRootfs(): string {
  const dir = join(WORK, "busybox-rootfs");
  if (existsSync(join(dir, VERSION_FILE))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "var"]) mkdirSync(join(tmp, d), { recursive: true });
  copyFileSync(busyboxBinary(), join(tmp, "bin/busybox"));
  chmodSync(join(tmp, "bin/busybox"), 0o755);
  const list = Bun.spawnSync([join(tmp, "bin/busybox"), "--list"]).stdout.toString().trim().split("\n");
  for (const applet of list) if (applet && applet !== "busybox") symlinkSync("busybox", join(tmp, "bin", applet));
  writeFileSync(
    join(tmp, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  writeFileSync(join(tmp, "etc/group"), "root:x:0:\ntty:x:5:\nwheel:x:10:app\naudio:x:29:nobody,app\nnogroup:x:65534:\napp:x:1000:\n");
  writeFileSync(join(tmp, VERSION_FILE), "");
  chmodSync(join(tmp, "tmp"), 0o1777);
  mkdirSync(WORK, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test file built it first
  }
  return dir;
}
