// The OCI lifecycle as a client drives it — create, start, state, kill, state, delete —
// 500 times across four clients at once, while other containers start and die around
// them (foreground runs that end, runs whose mycr is SIGKILLed mid-start, so the next
// start collects them). A review once saw a container `stopped` right after `start`
// returned 0 in one cycle of ~95 under load; every cycle here must see it running,
// signalled and gone, in order.
import { expect, test } from "bun:test";
import { makeBundle } from "./helpers/bundle";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const CYCLES = Number(process.env.MYCR_STRESS_CYCLES ?? 500);
const CLIENTS = 4;

async function status(id: string): Promise<string> {
  const r = await mycr(["state", id]);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as { status: string }).status : `state failed: ${r.stderr.trim()}`;
}

async function waitStatus(id: string, want: string): Promise<string> {
  let now = "";
  for (let i = 0; i < 100; i++) {
    now = await status(id);
    if (now === want) break;
    await Bun.sleep(20);
  }
  return now;
}

/** One client: `cycles` lifecycles one after another; returns what went wrong, with the cycle. */
async function client(n: number, cycles: number, bundle: string): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < cycles; i++) {
    const id = `stress-${process.pid}-${n}-${i}`;
    const created = await mycr(["create", "--bundle", bundle, id], { leavesContainer: true });
    if (created.exitCode !== 0) {
      problems.push(`${id}: create: ${created.stderr.trim()}`);
      continue;
    }
    const started = await mycr(["start", id]);
    if (started.exitCode !== 0) problems.push(`${id}: start: ${started.stderr.trim()}`);
    const running = await status(id);
    if (running !== "running") problems.push(`${id}: ${running} right after start`);
    const killed = await mycr(["kill", id, "KILL"]);
    if (killed.exitCode !== 0) problems.push(`${id}: kill: ${killed.stderr.trim()}`);
    const stopped = await waitStatus(id, "stopped");
    if (stopped !== "stopped") problems.push(`${id}: ${stopped} after kill`);
    const deleted = await mycr(["delete", id]);
    if (deleted.exitCode !== 0) problems.push(`${id}: delete: ${deleted.stderr.trim()}`);
  }
  return problems;
}

/** Containers starting and dying around the clients until `done` resolves. */
async function churn(done: Promise<unknown>): Promise<void> {
  const rootfs = busyboxRootfs();
  let over = false;
  void done.then(() => (over = true));
  for (let i = 0; !over; i++) {
    if (i % 3 === 2) {
      // A mycr killed while it starts: what it leaves is the next start's to collect.
      const bg = mycrBackground(["run", "--rootfs", rootfs, "--network", "none", "--", "sleep", "5"]);
      await Bun.sleep(30 + (i % 7) * 20);
      bg.proc.kill(9);
      await bg.proc.exited;
    } else {
      await mycr(["run", "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", `sleep 0.${i % 4}`]);
    }
  }
}

test(`the OCI lifecycle ${CYCLES} times, ${CLIENTS} clients at once, containers starting and dying around it`, async () => {
  const bundle = await makeBundle(["sleep", "10"]);
  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n, Math.ceil(CYCLES / CLIENTS), bundle));
  const all = Promise.all(clients);
  await Promise.all([all, process.env.MYCR_STRESS_CHURN === "0" ? all : churn(all)]);
  const problems = (await all).flat();
  expect(problems).toEqual([]);
  // The killed runs' leftovers are the next start's: one more, then nothing of theirs stays.
  expect((await mycr(["run", "--rootfs", busyboxRootfs(), "--network", "none", "true"])).exitCode).toBe(0);
}, 900_000);
