// The second real client: containerd's ctr with mycr as its runc binary
// (`ctr run --runc-binary`), through containerd-shim-runc-v2. The test starts its own
// containerd on a private socket and state, and removes all of it afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { MYCR } from "./helpers/env";
import { busyboxRootfs } from "./helpers/rootfs";

const have = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
const usable = have("containerd") && have("ctr") && have("containerd-shim-runc-v2") && have("podman");
const IMAGE = "localhost/mycr-ctr-busybox:latest";

let dir = "";
let daemon: Subprocess | null = null;

function ctr(args: string[], timeout = 60_000) {
  const r = Bun.spawnSync(["ctr", "-a", join(dir, "c.sock"), ...args], { timeout });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  if (!usable) return;
  dir = mkdtempSync(join(tmpdir(), "ctrd-"));
  daemon = Bun.spawn(["containerd", "--root", join(dir, "root"), "--state", join(dir, "state"), "--address", join(dir, "c.sock")], {
    stdout: "ignore",
    stderr: Bun.file(join(dir, "log")),
  });
  for (let i = 0; i < 100 && ctr(["version"]).exitCode !== 0; i++) await Bun.sleep(100);
  // an image containerd can import: podman builds it from the busybox rootfs and saves it
  const tar = Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-c", "."]);
  Bun.spawnSync(["podman", "import", "-", IMAGE], { stdin: tar.stdout });
  Bun.spawnSync(["podman", "save", "--format", "docker-archive", "-o", join(dir, "image.tar"), IMAGE]);
  const imported = ctr(["image", "import", join(dir, "image.tar")]);
  if (imported.exitCode !== 0) throw new Error(`ctr image import: ${imported.stderr}`);
}, 120_000);

afterAll(async () => {
  if (!daemon) return;
  ctr(["image", "rm", IMAGE]);
  daemon.kill("SIGTERM");
  await daemon.exited;
  // containerd leaves its snapshot mounts to its next start; nothing should outlive the test
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(dir));
  for (const m of mounts.sort().reverse()) Bun.spawnSync(["umount", "-l", m]);
  rmSync(dir, { recursive: true, force: true });
});

describe.if(usable)("ctr run --runc-binary mycr", () => {
  test("run --rm: the container's output and exit status", () => {
    const r = ctr(["run", "--rm", "--runc-binary", MYCR, IMAGE, `c1-${process.pid}`, "sh", "-c", "echo hello from pid $$; exit 3"]);
    expect(r.stdout).toBe("hello from pid 1\n");
    expect(r.exitCode).toBe(3);
  });

  test("a detached task: exec into it, kill it, delete it", async () => {
    const id = `c2-${process.pid}`;
    expect(ctr(["run", "-d", "--runc-binary", MYCR, IMAGE, id, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]).exitCode).toBe(0);
    try {
      const exec = ctr(["task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo exec sees pid1=$(cat /proc/1/cmdline | tr '\\0' ' ')"]);
      expect(exec.stdout).toContain("exec sees pid1=sh -c trap");
      const list = ctr(["task", "ls"]);
      expect(list.stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
      expect(ctr(["task", "kill", id]).exitCode).toBe(0);
      for (let i = 0; i < 100 && !/STOPPED/.test(ctr(["task", "ls"]).stdout); i++) await Bun.sleep(50);
      expect(ctr(["task", "ls"]).stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
    } finally {
      ctr(["task", "delete", "-f", id]);
      ctr(["container", "delete", id]);
    }
  });
});
