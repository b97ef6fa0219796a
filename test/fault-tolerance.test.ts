// mycr killed at any moment leaves nothing `mycr gc` (or, for the OCI face, `mycr
// delete --force`) cannot remove; many runs at once all work and leave nothing, also when
// some end (and remove the shared parent cgroup) while others start.
// The kill points are random but seeded: a failure names its seed and delay, and
// MYCR_TEST_SEED=<seed> replays them.
import { beforeAll, expect, test } from "bun:test";
import { MYCR, mycrEnv } from "./helpers/env";
import { foreignNamespaceProcesses } from "./helpers/leaks";
import { idsInStores, settledOwnLeaks } from "./helpers/own-leaks";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";
import { Random, testSeed } from "./helpers/random";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
let baseline: Set<string>;
const seed = testSeed("fault-tolerance");
const ids = new Set<string>();

beforeAll(() => {
  rootfs = busyboxRootfs();
  baseline = foreignNamespaceProcesses();
});

/** Starts mycr, SIGKILLs it after `delayMs`, and waits until it is gone. */
async function killAfter(args: string[], delayMs: number): Promise<void> {
  const proc = Bun.spawn([MYCR, ...args], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: mycrEnv() });
  await Bun.sleep(delayMs);
  proc.kill("SIGKILL");
  await proc.exited;
}

function remember(list: string[]): void {
  for (const id of list) if (id) ids.add(id.replace(/^\./, "").split(".")[0]!);
}

test("SIGKILL of mycr run at random points, then mycr gc: nothing left", async () => {
  const rnd = new Random(seed);
  // A run takes ~100 ms to start here: the delays cover set-up, the running container,
  // and (with the short command) its teardown.
  for (let i = 0; i < 24; i++) {
    const delay = rnd.int(0, 260);
    const args = ["run", ...(rnd.chance(0.75) ? ["--rootfs", rootfs] : []), "--", "sh", "-c", "echo data > /file; sleep 0.$((RANDOM % 3))"];
    await killAfter(args, delay);
    remember(idsInStores());
    const gc = await mycr(["gc"], { timeoutMs: 30_000 });
    remember(gc.stdout.split("\n"));
    const context = `seed ${seed}, iteration ${i}, delay ${delay} ms, ${args.slice(0, 3).join(" ")}`;
    expect({ context, gc: gc.exitCode, stderr: gc.stderr }).toEqual({ context, gc: 0, stderr: "" });
    expect({ context, leaks: await settledOwnLeaks(baseline, ids) }).toEqual({ context, leaks: [] });
  }
}, 120_000);

test("SIGKILL of mycr create at random points, then mycr delete --force: nothing left", async () => {
  const rnd = new Random(seed ^ 0x5eed);
  const bundle = await makeBundle(["sleep", "30"]);
  for (let i = 0; i < 16; i++) {
    const delay = rnd.int(0, 160);
    const id = uniqueId("killed-create");
    ids.add(id);
    await killAfter(["create", "--bundle", bundle, id], delay);
    const del = await mycr(["delete", "--force", id], { timeoutMs: 30_000 });
    const context = `seed ${seed}, iteration ${i}, delay ${delay} ms`;
    // Killed before it claimed the id, create left nothing to delete.
    if (del.exitCode !== 0) expect({ context, stderr: del.stderr }).toEqual({ context, stderr: `mycr: container "${id}" does not exist\n` });
    expect({ context, leaks: await settledOwnLeaks(baseline, ids) }).toEqual({ context, leaks: [] });
  }
}, 120_000);

test("50 concurrent mycr run all exit 0 with their own output and leave nothing", async () => {
  const runs = Array.from({ length: 50 }, (_, i) =>
    mycr(["run", "--rootfs", rootfs, "--", "sh", "-c", `echo out-${i}; echo err-${i} >&2; cat /proc/self/cgroup >/dev/null`], { timeoutMs: 150_000 }),
  );
  const results = await Promise.all(runs);
  results.forEach((r, i) => expect({ i, ...r }).toEqual({ i, exitCode: 0, stdout: `out-${i}\n`, stderr: `err-${i}\n` }));
  expect(await settledOwnLeaks(baseline, ids)).toEqual([]);
}, 180_000);

test("runs that start while others end all work: an end removing the shared parent cgroup never fails a start", async () => {
  // Each end removes the "mycr" parent directory once it is empty; a start between making
  // (or finding) it and making its own directory under it used to fail with ENOENT. Three
  // loops of runs one after another keep the parent coming and going.
  const loop = async (n: number) => {
    const failures: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await mycr(["run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"], { timeoutMs: 60_000 });
      if (r.exitCode !== 0 || r.stderr !== "") failures.push(`loop ${n} run ${i}: ${r.exitCode} ${r.stderr.trim()}`);
    }
    return failures;
  };
  expect((await Promise.all([loop(0), loop(1), loop(2)])).flat()).toEqual([]);
  expect(await settledOwnLeaks(baseline, ids)).toEqual([]);
}, 180_000);
