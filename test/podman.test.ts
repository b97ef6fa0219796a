// A real OCI client: podman (from apt) with mycr as its runtime, on a busybox image
// built locally. This host lacks CAP_SYS_RESOURCE, so podman's default rlimits
// (nofile and nproc 1048576) cannot be granted: the tests ask for ones that can.
import { beforeAll, describe, expect, test } from "bun:test";
import { MYCR } from "./helpers/env";
import { busyboxRootfs } from "./helpers/rootfs";

const IMAGE = "localhost/mycr-test-busybox:latest";
const havePodman = Bun.spawnSync(["sh", "-c", "command -v podman"]).exitCode === 0;

function podman(args: string[], timeoutMs = 60_000): { exitCode: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(["podman", "--runtime", MYCR, "--cgroup-manager", "cgroupfs", ...args], { timeout: timeoutMs });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const RUN = ["run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];

beforeAll(() => {
  if (!havePodman) return;
  const tar = Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-c", "."]);
  const imported = Bun.spawnSync(["podman", "import", "-", IMAGE], { stdin: tar.stdout });
  if (imported.exitCode !== 0) throw new Error(`podman import failed: ${imported.stderr}`);
});

describe.if(havePodman)("podman --runtime mycr", () => {
  test("run --rm: output and exit status", () => {
    const r = podman([...RUN, "--rm", IMAGE, "sh", "-c", "echo hello from $(hostname); exit 4"]);
    expect(r.stdout).toMatch(/^hello from [0-9a-f]{12}\n$/);
    expect(r.exitCode).toBe(4);
  });

  test("run -it: a terminal through --console-socket", () => {
    // script(1) gives podman a terminal of its own to pass on.
    const cmd = ["podman", "--runtime", MYCR, "--cgroup-manager", "cgroupfs", ...RUN, "--rm", "-it", IMAGE, "sh", "-c", "tty; echo done"].join(" ");
    const r = Bun.spawnSync(["script", "-qec", cmd, "/dev/null"], { timeout: 60_000 });
    const out = r.stdout.toString();
    expect(out).toContain("/dev/pts/0");
    expect(out).toContain("done");
    expect(r.exitCode).toBe(0);
  });

  test("exec -it into a running container", () => {
    const name = `mycr-test-it-${process.pid}`;
    expect(podman([...RUN, "-d", "--name", name, IMAGE, "sleep", "60"]).exitCode).toBe(0);
    try {
      const cmd = ["podman", "--runtime", MYCR, "--cgroup-manager", "cgroupfs", "exec", "-it", name, "sh", "-c", "tty; echo in-exec"].join(" ");
      const r = Bun.spawnSync(["script", "-qec", cmd, "/dev/null"], { timeout: 60_000 });
      expect(r.stdout.toString()).toMatch(/\/dev\/pts\/\d+/);
      expect(r.stdout.toString()).toContain("in-exec");
    } finally {
      podman(["rm", "-f", "-t", "0", name]);
    }
  });

  test("run -d, exec, logs, stop, rm", () => {
    const name = `mycr-test-${process.pid}`;
    const started = podman([...RUN, "-d", "--name", name, IMAGE, "sh", "-c", "echo started; trap 'echo stopping; exit 0' TERM; while :; do sleep 0.1; done"]);
    expect(started.exitCode).toBe(0);
    try {
      const exec = podman(["exec", name, "sh", "-c", "echo exec in $(hostname); exit 3"]);
      expect(exec.stdout).toMatch(/^exec in [0-9a-f]{12}\n$/);
      expect(exec.exitCode).toBe(3);
      const ps = podman(["ps", "--format", "{{.Names}} {{.Status}}"]);
      expect(ps.stdout).toContain(`${name} Up`);
      const stop = podman(["stop", "-t", "5", name]);
      expect(stop.exitCode).toBe(0);
      const logs = podman(["logs", name]);
      expect(logs.stdout).toBe("started\nstopping\n");
      const inspect = podman(["inspect", "--format", "{{.State.ExitCode}}", name]);
      expect(inspect.stdout.trim()).toBe("0");
    } finally {
      expect(podman(["rm", "-f", name]).exitCode).toBe(0);
    }
  });
});
