// Signals sent to a foreground mycr reach the container's PID 1.
import { beforeAll, expect, test } from "bun:test";
import { mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

for (const [i, signal] of SIGNALS.entries()) {
  test(`${signal} sent to mycr is delivered to the container`, async () => {
    const name = signal.slice(3);
    const code = 10 + i;
    // PID 1 only receives signals it has a handler for: the trap installs one.
    const script = `trap 'echo got-${name}; exit ${code}' ${name}; echo ready; while :; do sleep 0.05; done`;
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", script]);
    await bg.waitFor("ready");
    bg.proc.kill(signal);
    const r = await bg.result();
    expect(r.stdout).toContain(`got-${name}`);
    expect(r.exitCode).toBe(code);
  });
}

test("a signal that arrives while the container is being set up is not lost", async () => {
  const script = `trap 'echo got-TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`;
  const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", script]);
  // mycr itself handles SIGTERM from its first milliseconds: it must not die of it.
  await Bun.sleep(5);
  bg.proc.kill("SIGTERM");
  const r = await bg.result();
  expect([7, 143]).toContain(r.exitCode);
  expect(r.stderr).not.toContain("error");
});
