// Issue 19, bugs 2 and 8: every command takes a container's name or a unique prefix of
// its id (as ps, logs and exec do), a full id always meaning that container; and
// `start` of a detached container that exited runs it again, as docker's start does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
const names: string[] = [];
const ociIds: string[] = [];
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterAll(async () => {
  if (names.length > 0) await mycr(["rm", "-f", ...names]);
  for (const id of ociIds) await mycr(["delete", "--force", id]);
});

async function runD(name: string, args: string[]): Promise<string> {
  const r = await mycr(["run", "-d", "--name", name, "--network", "none", "--rootfs", rootfs, ...args]);
  if (r.exitCode !== 0) throw new Error(`run -d failed (${r.exitCode}): ${r.stderr}`);
  names.push(name);
  return r.stdout.trim();
}

async function stateOf(ref: string): Promise<{ id: string; status: string }> {
  const r = await mycr(["state", ref]);
  if (r.exitCode !== 0) throw new Error(`state ${ref} (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function psState(name: string): Promise<string> {
  const rows = (await mycr(["ps", "-a", "--format", "json"])).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { Names: string; State: string });
  return rows.find((r) => r.Names === name)?.State ?? "gone";
}

async function waitPs(name: string, state: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await psState(name)) !== state) {
    if (Date.now() > deadline) throw new Error(`${name} never became ${state} (is ${await psState(name)})`);
    await Bun.sleep(50);
  }
}

test("state, pause, resume, update, events and --network container: take a name or an id prefix", async () => {
  const name = `refs-${process.pid}`;
  const id = await runD(name, ["sleep", "600"]);
  expect(await stateOf(name)).toMatchObject({ id, status: "running" });
  expect((await stateOf(id.slice(0, 7))).id).toBe(id);

  expect(await mycr(["pause", name])).toMatchObject({ exitCode: 0, stderr: "" });
  expect((await stateOf(name)).status).toBe("paused");
  expect(await mycr(["resume", id.slice(0, 10)])).toMatchObject({ exitCode: 0, stderr: "" });
  expect((await stateOf(name)).status).toBe("running");

  expect(await mycr(["update", "--pids-limit", "77", name])).toMatchObject({ exitCode: 0, stderr: "" });
  const events = await mycr(["events", "--stats", name]);
  expect(events.exitCode).toBe(0);
  expect(JSON.parse(events.stdout)).toMatchObject({ type: "stats", id, data: { pids: { limit: 77 } } });

  // the same network namespace: the loopback's counters seen from both are one
  const joined = await mycr(["run", "--rootfs", rootfs, "--network", `container:${name}`, "--", "sh", "-c", "readlink /proc/self/ns/net"]);
  expect(joined.exitCode).toBe(0);
  const own = await mycr(["exec", name, "readlink", "/proc/self/ns/net"]);
  expect(joined.stdout).toBe(own.stdout);
}, 60_000);

test("unknown and ambiguous references: one line, 125; a full id wins over another container's name and over prefixes", async () => {
  const unknown = await mycr(["pause", `no-such-${process.pid}`]);
  expect([unknown.exitCode, unknown.stderr]).toEqual([125, `mycr: container "no-such-${process.pid}" does not exist\n`]);

  const bundle = await makeBundle(["sleep", "600"]);
  const short = uniqueId("amb");
  const long = `${short}x`;
  for (const id of [short, long]) {
    expect((await mycr(["create", "--bundle", bundle, id])).exitCode).toBe(0);
    ociIds.push(id);
  }
  // `short` is a container's full id and a prefix of `long`'s: the full id wins
  expect((await stateOf(short)).id).toBe(short);
  const ambiguous = await mycr(["state", short.slice(0, -1)]);
  expect([ambiguous.exitCode, ambiguous.stderr]).toEqual([125, `mycr: "${short.slice(0, -1)}" matches 2 containers: give more of the id\n`]);

  // a detached container named like an OCI container's id: the id wins
  await runD(long, ["sleep", "600"]);
  expect((await stateOf(long)).id).toBe(long);

  // start and delete by prefix (the OCI face's own commands)
  expect(await mycr(["start", `${short}x`.slice(0, short.length + 1)])).toMatchObject({ exitCode: 0, stdout: "" });
  expect((await stateOf(long)).status).toBe("running");
  expect((await mycr(["delete", "--force", long])).exitCode).toBe(0);
  expect((await mycr(["delete", "--force", short])).exitCode).toBe(0);
}, 60_000);

test("exec takes the container every command would: a full id over a prefix, a name, a unique prefix; an ambiguous prefix and a created container refused", async () => {
  // which container a process ran in: its PID 1's command line
  const initOf = async (ref: string) => {
    const r = await mycr(["exec", ref, "cat", "/proc/1/cmdline"]);
    return r.exitCode === 0 ? r.stdout.replaceAll("\0", " ").trim() : `${r.exitCode} ${r.stderr}`;
  };
  const short = uniqueId("exref");
  const long = `${short}x`;
  for (const [id, seconds] of [[short, "600"], [long, "601"]] as const) {
    expect((await mycr(["create", "--bundle", await makeBundle(["sleep", seconds]), id])).exitCode).toBe(0);
    ociIds.push(id);
    expect((await mycr(["start", id])).exitCode).toBe(0);
  }
  const named = `${short}-named`;
  const detachedId = await runD(named, ["sleep", "602"]);
  for (let round = 0; round < 2; round++) {
    expect(await initOf(short)).toBe("sleep 600"); // its full id, though also a prefix of `long`
    expect(await initOf(long)).toBe("sleep 601");
    expect(await initOf(named)).toBe("sleep 602");
    expect(await initOf(detachedId.slice(0, 12))).toBe("sleep 602");
    expect(await initOf(short.slice(0, -1))).toBe(`125 mycr: "${short.slice(0, -1)}" matches 2 containers: give more of the id\n`);
  }
  const created = uniqueId("exref-created");
  expect((await mycr(["create", "--bundle", await makeBundle(["sleep", "603"]), created])).exitCode).toBe(0);
  ociIds.push(created);
  expect(await initOf(created)).toBe(`125 mycr: cannot exec in container ${created}: it is created\n`);
}, 60_000);

test("start of an exited detached container runs it again: same name, same log; one line when it cannot", async () => {
  const name = `again-${process.pid}`;
  const id = await runD(name, ["sh", "-c", "echo ran; sleep 600"]);
  expect((await mycr(["stop", "-t", "0", name])).exitCode).toBe(0);
  await waitPs(name, "exited");

  const started = await mycr(["start", name]);
  expect(started).toMatchObject({ exitCode: 0, stdout: `${name}\n`, stderr: "" });
  expect(await psState(name)).toBe("running");
  expect((await stateOf(name)).id).toBe(id);
  expect((await mycr(["exec", name, "echo", "inside"])).stdout).toBe("inside\n");
  const deadline = Date.now() + 5000;
  while ((await mycr(["logs", name])).stdout !== "ran\nran\n" && Date.now() < deadline) await Bun.sleep(50);
  expect((await mycr(["logs", name])).stdout).toBe("ran\nran\n");
  // running already: nothing to do, as docker
  expect(await mycr(["start", id.slice(0, 12)])).toMatchObject({ exitCode: 0, stdout: `${id.slice(0, 12)}\n` });

  const missing = await mycr(["start", `no-such-${process.pid}`]);
  expect([missing.exitCode, missing.stderr]).toEqual([125, `mycr: container "no-such-${process.pid}" does not exist\n`]);
}, 60_000);
