// A mycr SIGKILLed while it starts or runs a container cannot clean up; the next
// command that creates a container (run, create) removes what it left, with no
// `mycr gc` in between: state dir, cgroups, upper dir, mounts, netns pin, the network's
// veth, address and rules, and the container's processes.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { MYCR, TEST_ROOT, TEST_STATE, mycrEnv } from "./helpers/env";
import { mycr, mycrBackground } from "./helpers/mycr";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { busyboxRootfs } from "./helpers/rootfs";
import { containerPid, waitForContainerPid } from "./helpers/containers";

const havePlugins = ["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"].some((p) => Bun.file(p).size > 0);
let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const containersDir = join(TEST_ROOT, "containers");
const storeIds = () => new Set([...entries(TEST_STATE), ...entries(containersDir)].filter((n) => !n.startsWith(".")));

/** Cgroup directories named `id`, in every hierarchy (named ones and cgroup2 included). */
function cgroupsNamed(id: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of entries(dir)) {
      const path = join(dir, name);
      if (!existsSync(join(path, "cgroup.procs"))) continue;
      if (name === id) found.push(path);
      else if (depth < 5) walk(path, depth + 1);
    }
  };
  for (const top of entries("/sys/fs/cgroup")) walk(join("/sys/fs/cgroup", top), 0);
  return found;
}

/** Addresses the CNI host-local IPAM still leases to `id`. */
function leases(id: string): string[] {
  const ipam = join(TEST_ROOT, "cni", "ipam");
  return entries(ipam).flatMap((net) =>
    entries(join(ipam, net))
      .filter((f) => {
        try {
          return readFileSync(join(ipam, net, f), "utf8").includes(id);
        } catch {
          return false;
        }
      })
      .map((f) => `${net}/${f}`),
  );
}

/** Everything of container `id` still on the host, as a user would look for it. */
function remains(id: string): string[] {
  const found: string[] = [];
  if (existsSync(join(TEST_STATE, id))) found.push(`state dir ${join(TEST_STATE, id)}`);
  if (existsSync(join(containersDir, id))) found.push(`container dir ${join(containersDir, id)}: ${entries(join(containersDir, id)).join(" ")}`);
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (line.includes(id)) found.push(`mount ${line}`);
  for (const cg of cgroupsNamed(id)) found.push(`cgroup ${cg}`);
  for (const lease of leases(id)) found.push(`address lease ${lease}`);
  const rules = Bun.spawnSync(["iptables-save"]).stdout.toString().split("\n").filter((l) => l.includes(id.slice(0, 12)));
  for (const rule of rules) found.push(`iptables ${rule}`);
  return found;
}

/** Starts mycr and SIGKILLs it as soon as `ready()` holds; returns the ids it made. */
async function killWhen(args: string[], ready: (fresh: string[]) => boolean): Promise<string[]> {
  const before = storeIds();
  const proc: Subprocess = Bun.spawn([MYCR, ...args], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: mycrEnv() });
  const fresh = () => [...storeIds()].filter((id) => !before.has(id));
  const deadline = Date.now() + 15_000;
  while (!ready(fresh()) && Date.now() < deadline && proc.exitCode === null) await Bun.sleep(1);
  proc.kill("SIGKILL");
  await proc.exited;
  expect(proc.signalCode).toBe("SIGKILL"); // killed, not finished
  return fresh();
}

const stateFile = (file: string) => (fresh: string[]) => fresh.some((id) => existsSync(join(TEST_STATE, id, file)));
const inState = (fresh: string[]) => fresh.some((id) => existsSync(join(TEST_STATE, id)));
const inContainers = (fresh: string[]) => fresh.some((id) => existsSync(join(containersDir, id)));

/** The next container's start, which is to collect; it must itself succeed. */
async function runAnother(): Promise<void> {
  const r = await mycr(["run", "--rootfs", rootfs, "--network", "none", "--", "true"]);
  expect(r).toEqual({ exitCode: 0, stdout: "", stderr: "" });
}

describe("after a SIGKILLed mycr run, the next run collects what it left (no mycr gc)", () => {
  const cases: Array<[string, (fresh: string[]) => boolean]> = [
    ["before the runtime claimed the id (the engine's directory only)", inContainers],
    ["after the claim, before the record", inState],
    ["after the record, while init sets up", stateFile("state.json")],
  ];
  for (const [when, ready] of cases) {
    test(`killed ${when}`, async () => {
      const network = havePlugins ? [] : ["--network", "none"]; // the bridge when there is one
      const ids = await killWhen(["run", "--rootfs", rootfs, ...network, "--", "sleep", "30"], ready);
      expect(ids.length).toBe(1);
      expect(remains(ids[0]!).length).toBeGreaterThan(0); // nobody was left to remove it
      await runAnother();
      expect(remains(ids[0]!)).toEqual([]);
    });
  }

  test("killed while the container runs: its processes, veth and address go too", async () => {
    const marker = `1000.${process.pid}1`;
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--", "sh", "-c", `cat /sys/class/net/eth0/iflink 2>/dev/null || echo none; exec sleep ${marker}`]);
    let id: string | undefined;
    try {
      await waitForContainerPid(marker);
      id = [...storeIds()].find((i) => existsSync(join(TEST_STATE, i, "state.json")) && readFileSync(join(TEST_STATE, i, "state.json"), "utf8").includes(marker));
    } finally {
      bg.proc.kill("SIGKILL");
      await bg.result();
    }
    if (!id) throw new Error("the container's state was not found");
    const hostIfindex = bg.output().trim();
    expect(remains(id).length).toBeGreaterThan(0);
    await runAnother();
    expect(remains(id)).toEqual([]);
    expect(containerPid(marker)).toBeNull();
    if (hostIfindex !== "none") {
      const veths = entries("/sys/class/net").filter((dev) => readFileSync(`/sys/class/net/${dev}/ifindex`, "utf8").trim() === hostIfindex);
      expect(veths).toEqual([]);
    }
  });
});

/** Whether `create` of `id` got as far as a created container: its record names no creator any more. */
function createFinished(id: string): boolean {
  try {
    return !("creator" in JSON.parse(readFileSync(join(TEST_STATE, id, "state.json"), "utf8")));
  } catch {
    return false; // no record yet
  }
}

/**
 * The id of a `create` SIGKILLed once `ready` held and before it finished. A create can
 * finish in the millisecond between our look and the kill, and a finished create's
 * container is rightly its client's to delete, not collected: such a try is deleted
 * and made again.
 */
async function killCreateUnfinished(bundle: string, ready: (fresh: string[]) => boolean): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const id = uniqueId("killed-create");
    await killWhen(["create", "--bundle", bundle, id], ready);
    if (!createFinished(id)) return id;
    expect((await mycr(["delete", "--force", id])).exitCode).toBe(0);
  }
  throw new Error("every create finished before its kill landed (10 tries)");
}

describe("after a SIGKILLed mycr create, the next create collects what it left", () => {
  for (const [when, ready] of [
    ["after the claim", inState],
    ["after the record, before init reported ready", stateFile("state.json")],
  ] as const) {
    test(`killed ${when}`, async () => {
      const bundle = await makeBundle(["sleep", "30"]);
      const killed = await killCreateUnfinished(bundle, ready);
      expect(remains(killed).length).toBeGreaterThan(0);
      const next = uniqueId("next-create");
      const r = await mycr(["create", "--bundle", bundle, next]);
      try {
        expect(r.exitCode).toBe(0);
        expect(remains(killed)).toEqual([]);
        expect(existsSync(join(TEST_STATE, next))).toBe(true); // and the new one is there
      } finally {
        await mycr(["delete", "--force", next]);
      }
    });
  }
});

test("the collection leaves running and created containers alone", async () => {
  const marker = `1000.${process.pid}2`;
  const running = mycrBackground(["run", "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", `echo ready; exec sleep ${marker}`]);
  await running.waitFor("ready");
  const bundle = await makeBundle(["sleep", "30"]);
  const created = uniqueId("created");
  expect((await mycr(["create", "--bundle", bundle, created])).exitCode).toBe(0);
  try {
    // Something to collect, so the next run does collect.
    const ids = await killWhen(["run", "--rootfs", rootfs, "--network", "none", "--", "sleep", "30"], stateFile("state.json"));
    await runAnother();
    expect(remains(ids[0]!)).toEqual([]);
    expect(running.proc.exitCode).toBeNull();
    expect(containerPid(marker)).not.toBeNull();
    const state = await mycr(["state", created]);
    expect(JSON.parse(state.stdout).status).toBe("created");
  } finally {
    process.kill(containerPid(marker)!, "SIGKILL");
    await running.result();
    await mycr(["delete", "--force", created]);
  }
});
