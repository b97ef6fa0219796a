// disk exhaustion: a container cannot fill the host's disk past --storage-opt size.
// This host's kernel has no quota formats (no CONFIG_QFMT_V2, no CONFIG_XFS_QUOTA), so
// ext4 cannot be mounted with prjquota here: test/vm/disk-quota.sh runs the checks in a
// qemu VM with Debian's kernel, on an ext4 image made here (mkfs.ext4 -O quota,project)
// loop-mounted with prjquota as MYCR_ROOT. Each of its checks is one test here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./helpers/env";
import { NOT_RUN, checkLine, expectVmRan, runVm } from "./helpers/vm";

const harness = join(REPO, "test/vm/run-in-vm.sh");
const canBoot = existsSync("/usr/bin/qemu-system-x86_64") && process.arch === "x64";
let run = NOT_RUN;
let dir = "";

function sh(args: string[]): void {
  const r = Bun.spawnSync(args, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

beforeAll(async () => {
  if (!canBoot) return;
  dir = mkdtempSync("/tmp/disk-quota-");
  const image = join(dir, "quota.img");
  sh(["truncate", "-s", "64M", image]);
  sh(["mkfs.ext4", "-q", "-F", "-O", "quota,project", image]);
  sh(["gcc", "-static", "-O1", "-o", join(dir, "prjquota"), join(REPO, "test/fixtures/prjquota.c")]);
  run = await runVm([harness, join(REPO, "test/vm/disk-quota.sh"), image, join(dir, "prjquota")], {
    ...process.env,
    MYCR_VM_MODULES: "overlay loop ext4 quota_v2 crc32c_generic",
  });
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CHECKS = [
  "the ext4 image mounts with prjquota",
  "df / inside shows the 10 MiB limit",
  "writing 20 MiB under size=10m fails with EDQUOT/ENOSPC",
  "the file stopped at the limit",
  "the container exited 0",
  "its files are gone",
  "its project's limit was reset",
  "a running container's upper dir has a project id of mycr's",
  "the project's limit is the size asked for",
  "a second container gets a project of its own",
  "without --storage-opt the upper dir has no project",
  "rm -f resets both projects' limits",
  "--keep keeps the upper dir",
  "--keep: the kept files' project has no limit left",
  "ext4 without prjquota: exit 125",
  "ext4 without prjquota: one line naming it",
  "nothing left in MYCR_ROOT",
  "no runtime state left",
  "the loop device is released",
];

test.if(canBoot)("the VM booted with prjquota on a loop-mounted ext4 and ran the checks", () => {
  expectVmRan(run);
});

for (const name of CHECKS) {
  test.if(canBoot)(`disk exhaustion: a container cannot fill the host's disk past --storage-opt size: ${name}`, () => {
    expect(checkLine(run, name)).toStartWith(`PASS ${name}`);
  });
}
