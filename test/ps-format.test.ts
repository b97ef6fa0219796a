// Issue 19: ps --filter and --format, inspect -f, stats' columns and --format, as docker
// users type them: filters combine as docker's (a key twice: either; two keys: both),
// Go template fields print what ps and inspect say, and bad filters or templates are
// one line and 125.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

setDefaultTimeout(90_000);

const tag = `psformat-${process.pid}:1`;
const web = `ps-web-${process.pid}`;
const db = `ps-db-${process.pid}`;
const failed = `ps-failed-${process.pid}`;
let dir: string;
const ids: Record<string, string> = {};

async function ok(args: string[]): Promise<string> {
  const r = await mycr(args);
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")}: ${r.exitCode} ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(WORK, "ps-format-"));
  const tar = join(dir, "rootfs.tar");
  expect(Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-cf", tar, "."]).exitCode).toBe(0);
  await ok(["import", tar, tag]);
  const run = (name: string, more: string[], script: string) => ok(["run", "-d", "--name", name, "--network", "none", ...more, "sh", "-c", script]);
  // the synced write goes to a volume: the root's overlay skips syncs (it is volatile: its files go at the exit)
  ids[web] = (await run(web, ["-l", "app=shop", "-l", "tier=front", "-v", `${dir}:/data`, "--image", tag], "dd if=/dev/urandom of=/data/f bs=1M count=3 conv=fsync 2>/dev/null; exec sleep 600")).trim();
  ids[db] = (await run(db, ["--label", "app=shop", "--label", "tier=back", "--rootfs", busyboxRootfs()], "exec sleep 600")).trim();
  ids[failed] = (await run(failed, ["-l", "app=batch", "--rootfs", busyboxRootfs()], "exit 3")).trim();
  const deadline = Date.now() + 15_000;
  while (!(await ok(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).includes(`${failed} exited`)) {
    if (Date.now() > deadline) throw new Error(`${failed} never exited`);
    await Bun.sleep(50);
  }
});
afterAll(async () => {
  await mycr(["rm", "-f", web, db, failed]);
  await mycr(["rmi", tag]);
  rmSync(dir, { recursive: true, force: true });
});

/** The names `ps ARGS` lists, sorted, among this file's containers. */
async function names(args: string[]): Promise<string[]> {
  const mine = new Set([web, db, failed]);
  return (await ok(["ps", ...args, "--format", "{{.Names}}"])).split("\n").filter((n) => mine.has(n)).sort();
}

test("ps --filter: name, id, status, exited, label, ancestor; repeated keys match either, different keys both", async () => {
  expect(await names([])).toEqual([db, web].sort());
  expect(await names(["-f", `name=${web}`])).toEqual([web]);
  expect(await names(["--filter", `name=^ps-(web|db)-${process.pid}$`])).toEqual([db, web].sort());
  expect(await names(["-f", `id=${ids[db]!.slice(0, 10)}`])).toEqual([db]);
  // status= and exited= look at stopped containers without -a, as docker's do
  expect(await names(["-f", "status=exited"])).toEqual([failed]);
  expect(await names(["-f", "exited=3"])).toEqual([failed]);
  expect(await names(["-f", "exited=0"])).toEqual([]);
  expect(await names(["-f", "status=running"])).toEqual([db, web].sort());
  expect(await names(["-a", "-f", "label=app=shop"])).toEqual([db, web].sort());
  expect(await names(["-a", "-f", "label=tier"])).toEqual([db, web].sort());
  expect(await names(["-a", "-f", "label=app=batch"])).toEqual([failed]);
  expect(await names(["-a", "-f", "label=app=shop", "-f", "label=tier=back"])).toEqual([db]);
  expect(await names(["-a", "-f", `name=${web}`, "-f", `name=${failed}`])).toEqual([failed, web].sort());
  expect(await names(["-a", "-f", `ancestor=${tag}`])).toEqual([web]);
  expect(await names(["-a", "-f", "status=paused"])).toEqual([]);
  expect((await ok(["ps", "-q", "-f", `name=${web}`])).trim()).toBe(ids[web]!.slice(0, 12));
});

test("ps --filter refuses what it does not know with one line", async () => {
  const cases: [string, string][] = [
    ["bogus=1", "unknown filter"],
    ["status=sleeping", "status is one of"],
    ["exited=x", "exit code"],
    ["name", "KEY=VALUE"],
    ["name=(", "regular expression"],
  ];
  for (const [filter, message] of cases) {
    const r = await mycr(["ps", "-f", filter]);
    expect(r.exitCode, filter).toBe(125);
    expect(r.stderr.trim().split("\n"), filter).toHaveLength(1);
    expect(r.stderr).toContain(message);
  }
});

test("ps --format: Go template fields, table with headers, json", async () => {
  const line = (await ok(["ps", "-f", `name=${web}`, "--format", "{{.ID}}|{{.Names}}|{{.Image}}|{{.State}}|{{.Labels}}|{{.Status}}"])).trim();
  expect(line).toMatch(new RegExp(`^${ids[web]!.slice(0, 12)}\\|${web}\\|\\S*psformat-${process.pid}:1\\|running\\|app=shop,tier=front\\|Up `));
  const table = (await ok(["ps", "-f", `name=${web}`, "--format", "table {{.Names}}\\t{{.State}}"])).split("\n");
  expect(table[0]).toMatch(/^NAMES +STATE$/);
  expect(table[1]).toMatch(new RegExp(`^${web} +running$`));
  const json = JSON.parse((await ok(["ps", "-f", `name=${web}`, "--format", "json"])).trim());
  expect(json).toMatchObject({ ID: ids[web], Names: web, State: "running" });
  expect((await ok(["ps", "-f", `name=${web}`, "--no-trunc", "--format", "{{.ID}}"])).trim()).toBe(ids[web]!);
  expect((await ok(["ps", "-f", `name=${web}`, "--format", "{{.Names | upper}}"])).trim()).toBe(web.toUpperCase());
  const bad = await mycr(["ps", "--format", "{{.Nope}}"]);
  expect(bad.exitCode).toBe(125);
  expect(bad.stderr).toContain("no field Nope");
  expect((await mycr(["ps", "--format", "{{if .Names}}"])).stderr).toContain("not closed with {{end}}");
});

test("inspect -f/--format prints each object through the template; images are found by name", async () => {
  const pid = (await ok(["ps", "-f", `name=${web}`, "--format", "json"])).trim();
  const expected = JSON.parse(pid).Pid;
  expect((await ok(["inspect", "-f", "{{.State.Pid}}", web])).trim()).toBe(String(expected));
  expect(await ok(["inspect", "--format", "{{.Name}} {{.State.Status}} {{.State.ExitCode}}", web, failed])).toBe(`${web} running 0\n${failed} exited 3\n`);
  expect(JSON.parse(await ok(["inspect", "-f", "{{json .Config.Labels}}", db]))).toEqual({ app: "shop", tier: "back" });
  expect((await mycr(["inspect", "-f", "{{range $k := .Config.Labels}}{{end}}", db])).stderr).toContain("not supported");
  // an image by name when no container has it, as docker's inspect
  const image = JSON.parse(await ok(["inspect", tag]));
  expect(image[0].RepoTags[0]).toContain(`psformat-${process.pid}:1`);
  expect((await ok(["inspect", "-f", "{{.Os}}", tag])).trim()).toBe("linux");
  const wrongType = await mycr(["inspect", "--type", "container", tag]);
  expect(wrongType.exitCode).toBe(125);
  expect(wrongType.stderr).toContain("does not exist");
  expect((await mycr(["inspect", "no-such-thing"])).stderr).toBe('mycr: container "no-such-thing" does not exist\n');
  expect((await mycr(["inspect", "--type", "image", "no-such-thing"])).stderr).toBe("mycr: no such image: no-such-thing\n");
});

test("stats: docker's columns (NAME, NET I/O, BLOCK I/O), --no-stream, --format", async () => {
  const table = (await ok(["stats", "--no-stream", web, db])).split("\n");
  expect(table[0]).toMatch(/^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
  expect(table.some((l) => l.startsWith(ids[web]!.slice(0, 12)) && l.includes(web))).toBe(true);
  const rows = (await ok(["stats", "--no-stream", "--format", "{{.Name}};{{.NetIO}};{{.BlockIO}};{{.PIDs}}", web])).trim().split(";");
  expect(rows[0]).toBe(web);
  expect(rows[1]).toBe("0B / 0B"); // --network none: only lo, which is left out
  // dd wrote 3 MiB to the volume with fsync: the written half says so
  expect(rows[2]).toMatch(/ \/ ([3-9]\.\d+MB|[1-9]\d+(\.\d+)?MB)$/);
  expect(rows[3]).toBe("1");
  const json = (await ok(["stats", "--no-stream", "--format", "json", db])).trim().split("\n").map((l) => JSON.parse(l));
  expect(json).toHaveLength(1);
  expect(json[0]).toMatchObject({ Name: db, id: ids[db], PIDs: "1" });
  expect(json[0].blockWrite).toBeGreaterThanOrEqual(0);
});
