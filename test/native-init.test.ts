// The native init (MYCR_INIT=auto, the default, or native; docs/performance.md): a foreground `mycr run`
// whose container is set up by the C child, no second Bun start-up. What it covers runs
// with it (the trace says which init started the container); what it does not is
// refused with one line under MYCR_INIT=native and left to Bun's init under auto. The
// container it makes reads back as Bun's init's does.
import { beforeAll, describe, expect, test } from "bun:test";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

const run = (init: string, args: string[], extra: Record<string, string> = {}) =>
  mycr(["run", "--rootfs", rootfs, "--network", "none", ...args], { env: { MYCR_INIT: init, MYCR_TRACE: "1", ...extra } });

/** stderr without the trace's lines. */
const messages = (stderr: string) => stderr.split("\n").filter((l) => l !== "" && !/^mycr\[\d+\] [\d.]+ms /.test(l));

/** What a user checks of a container: ids, capabilities, seccomp, mounts, hostname, cwd, lo. */
const PROBE = [
  "id", "hostname", "pwd", "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status", "echo pid=$$",
  "cat /proc/self/mountinfo | awk '{print $5, $9}' | sort", "cat /sys/class/net/lo/operstate", "ls /dev | sort", "umask",
].join("; ");

describe("native init", () => {
  test("a run starts with the native init by default and under MYCR_INIT=native and auto, with Bun's under bun", async () => {
    for (const [init, expected] of [["native", "launch: native init"], ["auto", "launch: native init"]] as const) {
      const r = await run(init, ["--", "true"]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain(expected);
      expect(r.stderr).not.toContain("init: start"); // no Bun init ran
    }
    const bun = await run("bun", ["--", "true"]);
    expect(bun.exitCode).toBe(0);
    expect(bun.stderr).toContain("init: start");
    if (process.env.MYCR_INIT === undefined) {
      // the default (the runner chose no init for the whole run)
      const r = await mycr(["run", "--rootfs", rootfs, "--network", "none", "--", "true"], { env: { MYCR_TRACE: "1" } });
      expect(r.stderr).toContain("launch: native init");
    }
  });

  test("the container reads back the same with either init (ids, capabilities, seccomp, mounts, hostname, cwd, lo, /dev, umask)", async () => {
    const args = ["--hostname", "probe", "-w", "/work/here", "--", "/bin/sh", "-c", PROBE];
    const native = await run("native", args);
    const bun = await run("bun", args);
    expect(messages(native.stderr)).toEqual([]);
    expect(native.exitCode).toBe(0);
    expect(native.stdout).toContain("pid=1");
    expect(native.stdout).toContain("probe\n/work/here\n");
    expect(native.stdout).toContain("Seccomp:\t2");
    expect(native.stdout).toBe(bun.stdout);
  });

  test("its exit statuses and one-line errors are Bun's init's", { timeout: 60_000 }, async () => {
    const cases: string[][] = [["--", "sh", "-c", "exit 42"], ["--", "nosuchcommand"], ["--", "/no/such/thing"], ["--", "/bin"], ["--", "/etc/passwd"], ["--", "sh", "-c", "kill -9 $$"]];
    for (const args of cases) {
      const native = await run("native", args);
      const bun = await run("bun", args);
      expect({ args, code: native.exitCode, errors: messages(native.stderr) }).toEqual({ args, code: bun.exitCode, errors: messages(bun.stderr) });
    }
  });

  test("MYCR_INIT=native refuses, in one line, what it does not cover; auto leaves it to Bun's init", async () => {
    const refused = await run("native", ["--init", "--", "true"]);
    expect(refused.exitCode).toBe(125);
    expect(messages(refused.stderr)).toEqual(["mycr: MYCR_INIT=native: the native init does not cover --init; unset MYCR_INIT to use Bun's init"]);
    const auto = await run("auto", ["--init", "--", "true"]);
    expect(auto.exitCode).toBe(0);
    expect(auto.stderr).toContain("launch: Bun's init (the native one does not cover --init)");
    const bad = await run("sometimes", ["--", "true"]);
    expect(bad.exitCode).toBe(125);
    expect(messages(bad.stderr)).toEqual(["mycr: MYCR_INIT=sometimes: use bun, native or auto"]);
  });

  test("the C compiled by TinyCC at run time (MYCR_NATIVE=tinycc) starts the same container", async () => {
    const r = await run("native", ["--", "/bin/sh", "-c", "echo pid=$$; id -u"], { MYCR_NATIVE: "tinycc" });
    expect(messages(r.stderr)).toEqual([]);
    expect(r.stdout).toBe("pid=1\n0\n");
  });

  test("no fd of the runtime reaches the container, and its cwd is inside the root (repeated)", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await run("native", ["--", "/bin/sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; readlink /proc/1/cwd; readlink /proc/1/root"]);
      expect(messages(r.stderr)).toEqual([]);
      // 0-2, and the fd ls itself opens to list the directory
      expect(r.stdout).toBe("0 1 2 3 /\n/\n");
    }
  });
});
