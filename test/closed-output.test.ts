// Issue 19, bug 6: a reader that goes away (`mycr stats | head`) ends a command quietly
// with status 141 (128 + SIGPIPE, as docker's Go CLI and Unix tools), in every command:
// no "EPIPE: broken pipe" line.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MYCR, mycrEnv } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const name = `closed-out-${process.pid}`;
beforeAll(async () => {
  const r = await mycr(["run", "-d", "--name", name, "--network", "none", "--rootfs", busyboxRootfs(), "sh", "-c", "seq 1 100000; sleep 600"]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
});
afterAll(async () => {
  await mycr(["rm", "-f", name]);
});

/** `mycr ARGS | head -1` in bash: mycr's status, what head printed, what mycr said on stderr. */
function piped(args: string[]): { status: number; first: string; stderr: string } {
  const script = `"$0" "$@" | head -1; echo "status=\${PIPESTATUS[0]}"`;
  const r = Bun.spawnSync(["bash", "-c", script, MYCR, ...args], { env: mycrEnv(), stderr: "pipe", timeout: 30_000 });
  const out = r.stdout.toString();
  return { status: Number(/status=(\d+)/.exec(out)?.[1]), first: out.split("\n")[0]!, stderr: r.stderr.toString() };
}

test("stats | head and logs | head end quietly with 141", async () => {
  // the log holds 100000 lines once seq is done
  const deadline = Date.now() + 10_000;
  while (!(await mycr(["logs", "--tail", "1", name])).stdout.includes("100000") && Date.now() < deadline) await Bun.sleep(100);

  expect(piped(["stats", name])).toEqual({ status: 141, first: expect.stringMatching(/^CONTAINER ID +NAME +CPU %/), stderr: "" });
  expect(piped(["logs", name])).toEqual({ status: 141, first: "1", stderr: "" });
  // one that writes a little and exits before head closes: 0, as ever
  expect(piped(["ps", "-q"]).status).toBe(0);
}, 60_000);
