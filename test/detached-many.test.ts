// Twenty detached containers at once: started, listed, exec'd into, stopped, removed.
import { expect, test } from "bun:test";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const N = 20;

test(`${N} detached containers at once: run -d, ps, exec, stop, rm`, async () => {
  const rootfs = busyboxRootfs();
  const t0 = performance.now();
  const names = Array.from({ length: N }, (_, i) => `many-${process.pid}-${i}`);
  try {
    const runs = await Promise.all(names.map((n) => mycr(["run", "-d", "--init", "--name", n, "--rootfs", rootfs, "--", "sleep", "120"])));
    for (const r of runs) expect(r.exitCode).toBe(0);
    const ids = runs.map((r) => r.stdout.trim());
    expect(new Set(ids).size).toBe(N);
    const ps = await mycr(["ps", "--format", "json"]);
    const rows = ps.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { ID: string; Names: string; State: string });
    for (const n of names) expect(rows.find((r) => r.Names === n)?.State).toBe("running");
    const execs = await Promise.all(names.map((n) => mycr(["exec", n, "sh", "-c", "echo $HOSTNAME"])));
    execs.forEach((r, i) => expect(r.stdout).toBe(`${ids[i]!.slice(0, 12)}\n`));
    const stop = await mycr(["stop", "-t", "5", ...names], { timeoutMs: 60_000 });
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout.trim().split("\n")).toEqual(names);
    const all = (await mycr(["ps", "-a", "--format", "json"])).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { Names: string; State: string; ExitCode?: number });
    for (const n of names) expect(all.find((r) => r.Names === n)).toMatchObject({ State: "exited", ExitCode: 143 });
    const rm = await mycr(["rm", ...names]);
    expect(rm.exitCode).toBe(0);
    expect((await mycr(["ps", "-a", "-q"])).stdout).toBe("");
  } finally {
    await mycr(["rm", "-f", ...names], { timeoutMs: 60_000 });
  }
  expect(performance.now() - t0).toBeLessThan(60_000);
}, 90_000);
