// Bad `run` flags: one line naming what is wrong, exit 125, nothing left behind.
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { findLeaks, foreignNamespaceProcesses } from "./helpers/leaks";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
let baseline: Set<string>;
beforeAll(() => {
  rootfs = busyboxRootfs();
  baseline = foreignNamespaceProcesses();
});

async function expectOneLineError(flags: string[], message: string): Promise<void> {
  const r = await mycr(["run", "--rootfs", rootfs, ...flags, "--", "/bin/sh", "-c", "echo should-not-run"]);
  expect(r.stderr).toBe(`mycr: ${message}\n`);
  expect(r.stdout).toBe("");
  expect(r.exitCode).toBe(125);
  expect(findLeaks(baseline)).toEqual([]);
}

test("malformed -v", async () => {
  await expectOneLineError(["-v", "/tmp"], "-v /tmp: expected SOURCE:DESTINATION[:ro|rw]");
  await expectOneLineError(["-v", "/tmp:/a:ro:x"], "-v /tmp:/a:ro:x: expected SOURCE:DESTINATION[:ro|rw]");
  await expectOneLineError(["-v", "/tmp:/a:rx"], '-v /tmp:/a:rx: unknown option "rx" (use ro or rw)');
  await expectOneLineError(["-v", "data:/a"], "-v data:/a: the source must be a path (named volumes are not supported)");
  await expectOneLineError(["-v", "/tmp:rel"], "-v /tmp:rel: the destination must be an absolute path");
  await expectOneLineError(["-v", "/tmp:/"], "-v /tmp:/: cannot mount over the container's root");
  await expectOneLineError(["-v", "/tmp:/a", "-v", "/etc:/a"], "/a is mounted twice");
});

test("a -v source that does not exist", async () => {
  await expectOneLineError(["-v", "/no/such/dir:/data"], "-v /no/such/dir:/data: the source /no/such/dir does not exist");
});

test("malformed --tmpfs", async () => {
  await expectOneLineError(["--tmpfs", "scratch"], "--tmpfs scratch: the destination must be an absolute path");
  await expectOneLineError(["--tmpfs", "/s:size=lots"], '--tmpfs /s:size=lots: unknown or malformed option "size=lots"');
  await expectOneLineError(["--tmpfs", "/s:bogus"], '--tmpfs /s:bogus: unknown or malformed option "bogus"');
});

test("an unknown user or group", async () => {
  await expectOneLineError(["-u", "ghost"], "unable to find user ghost: no matching entries in the container's /etc/passwd");
  await expectOneLineError(["-u", "app:ghosts"], "unable to find group ghosts: no matching entries in the container's /etc/group");
  await expectOneLineError(["-u", "a:b:c"], '-u "a:b:c": expected USER[:GROUP], names or numbers');
});

test("a relative working directory", async () => {
  await expectOneLineError(["-w", "tmp"], "--workdir tmp: must be an absolute path");
});

test("a malformed --ulimit", async () => {
  await expectOneLineError(["--ulimit", "nofile"], "--ulimit nofile: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048");
  await expectOneLineError(["--ulimit", "nofile=abc"], '--ulimit nofile=abc: "abc" is not a number');
  await expectOneLineError(["--ulimit", "nofile=2048:1024"], "--ulimit nofile=2048:1024: the soft limit is above the hard limit");
  await expectOneLineError(
    ["--ulimit", "files=1"],
    '--ulimit files=1: unknown limit "files" (one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)',
  );
});

test("raising a hard limit without CAP_SYS_RESOURCE names the limit", async () => {
  const hard = Number(Bun.spawnSync(["sh", "-c", "ulimit -Hn"]).stdout.toString().trim());
  await expectOneLineError(
    ["--ulimit", `nofile=1024:${hard + 1000}`],
    `ulimit nofile: cannot raise the hard limit to ${hard + 1000} (it is ${hard} here; raising it needs CAP_SYS_RESOURCE)`,
  );
});

test("a bad --name", async () => {
  await expectOneLineError(["--name", "-x"], `--name "-x": use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128)`);
  await expectOneLineError(["--name", "a b"], `--name "a b": use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128)`);
});

test("a missing --env-file and a bad -e", async () => {
  const missing = join(WORK, "no-such.env");
  await expectOneLineError(["--env-file", missing], `--env-file ${missing}: no such file`);
  await expectOneLineError(["-e", "=x"], '-e: "=x": the variable name is empty');
  await expectOneLineError(["-e", "A B=1"], '-e: "A B": a variable name cannot contain whitespace');
});
