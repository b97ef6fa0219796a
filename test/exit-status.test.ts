// mycr's exit status is the container's: its code, 128+N for death by signal N,
// 126/127 for a command that cannot run, 125 when mycr itself failed.
import { beforeAll, describe, expect, test } from "bun:test";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { waitForContainerPid } from "./helpers/containers";

let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

describe("exit status", () => {
  test("0 for success, the command's own code otherwise", async () => {
    expect((await mycr(["run", "--rootfs", rootfs, "true"])).exitCode).toBe(0);
    expect((await mycr(["run", "--rootfs", rootfs, "false"])).exitCode).toBe(1);
    const r = await mycr(["run", "--rootfs", rootfs, "--", "sh", "-c", "exit 42"]);
    expect(r.exitCode).toBe(42);
    expect(r.stderr).toBe("");
  });

  test("127 and one line when the command does not exist", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "foo"]);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toBe('mycr: "foo": executable file not found in $PATH\n');
    const abs = await mycr(["run", "--rootfs", rootfs, "/no/such/thing"]);
    expect(abs.exitCode).toBe(127);
    expect(abs.stderr).toBe('mycr: "/no/such/thing": no such file or directory\n');
  });

  test("126 when the command is not executable", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "/etc/passwd"]);
    expect(r.exitCode).toBe(126);
    expect(r.stderr).toBe('mycr: "/etc/passwd": permission denied\n');
    const dir = await mycr(["run", "--rootfs", rootfs, "/bin"]);
    expect(dir.exitCode).toBe(126);
    expect(dir.stderr).toBe('mycr: "/bin": is a directory\n');
  });

  test("128+N when the container's PID 1 is killed by signal N", async () => {
    const marker = `1000.${process.pid}1`;
    // As a user would: kill a container that is up (it said so), then read mycr's status.
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", `echo up; exec sleep ${marker}`]);
    await bg.waitFor("up");
    const pid = await waitForContainerPid(`sleep ${marker}`, 10_000, true);
    process.kill(pid, "SIGKILL");
    const r = await bg.result();
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(137);
  });

  test("a signal PID 1 has no handler for is ignored, as the kernel does for every PID 1", async () => {
    const marker = `1000.${process.pid}2`;
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sleep", marker]);
    const pid = await waitForContainerPid(marker);
    process.kill(pid, "SIGTERM");
    await Bun.sleep(200);
    expect(bg.proc.exitCode).toBeNull();
    process.kill(pid, "SIGKILL");
    expect((await bg.result()).exitCode).toBe(137);
  });
});
