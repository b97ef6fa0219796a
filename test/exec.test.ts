// `exec`: a new process inside a running container.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { alive, waitForContainerPid } from "./helpers/containers";
import { mycr } from "./helpers/mycr";

let id: string;
let bundle: string;
beforeAll(async () => {
  bundle = await makeBundle(["sh", "-c", "echo exec-target $$ > /dev/null; while :; do sleep 0.1; done"], (spec) => {
    spec.hostname = "exec-box";
    spec.process!.env!.push("FROM_CONFIG=yes");
  });
  id = uniqueId("exec");
  const r = await mycr(["run", "-d", "--bundle", bundle, id]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  // As runc's, `run -d` returns once start let the init go: its execve may come a moment later.
  await waitForContainerPid("exec-target");
});
afterAll(async () => {
  await mycr(["delete", "--force", id]);
});

test("the process joins the container's namespaces: its PID 1, host name, root and cgroup", async () => {
  const r = await mycr(["exec", id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; ls /bin/busybox; cat /proc/self/cgroup | grep -c ':/$'"]);
  expect(r.stderr).toBe("");
  const [pid1, host, bin, rootCgroups] = r.stdout.trim().split("\n");
  expect(pid1).toContain("while :");
  expect(host).toBe("exec-box");
  expect(bin).toBe("/bin/busybox");
  expect(Number(rootCgroups)).toBeGreaterThan(0); // inside the container's cgroup namespace
});

test("environment from the config plus --env, --cwd, --user", async () => {
  const r = await mycr(["exec", "--env", "EXTRA=1", "--cwd", "/tmp", "--user", "65534:65534", id, "sh", "-c", "echo $FROM_CONFIG $EXTRA; pwd; id -u; id -g"]);
  expect(r.stdout.trim().split("\n")).toEqual(["yes 1", "/tmp", "65534", "65534"]);
});

test("the exit status is the process's; 127 for a missing command", async () => {
  expect((await mycr(["exec", id, "sh", "-c", "exit 9"])).exitCode).toBe(9);
  const missing = await mycr(["exec", id, "nope"]);
  expect(missing.exitCode).toBe(127);
  expect(missing.stderr).toBe('mycr: "nope": executable file not found in $PATH\n');
});

test("--process runs an OCI process description", async () => {
  const file = join(bundle, "process.json");
  writeFileSync(file, JSON.stringify({ args: ["sh", "-c", "echo $A from $(pwd)"], env: ["A=process-file", "PATH=/bin"], cwd: "/etc", user: { uid: 0, gid: 0 } }));
  const r = await mycr(["exec", "--process", file, id]);
  expect(r.stdout).toBe("process-file from /etc\n");
});

test("--detach returns at once and writes the pid; the process lives in the container", async () => {
  const pidFile = join(bundle, "exec.pid");
  const r = await mycr(["exec", "-d", "--pid-file", pidFile, id, "sleep", "30"]);
  expect(r.exitCode).toBe(0);
  const pid = Number(readFileSync(pidFile, "utf8"));
  expect(alive(pid)).toBe(true);
  const ps = JSON.parse((await mycr(["ps", "--format", "json", id])).stdout) as number[];
  expect(ps).toContain(pid);
});

test("exec into a stopped or unknown container is refused", async () => {
  const other = uniqueId("stopped");
  const b = await makeBundle(["true"]);
  await mycr(["run", "-d", "--bundle", b, other]);
  for (let i = 0; i < 100 && JSON.parse((await mycr(["state", other])).stdout).status !== "stopped"; i++) await Bun.sleep(20);
  const r = await mycr(["exec", other, "true"]);
  expect(r.stderr).toBe(`mycr: cannot exec in container ${other}: it is stopped\n`);
  expect(r.exitCode).toBe(125);
  await mycr(["delete", other]);
  const unknown = await mycr(["exec", "no-such", "true"]);
  expect(unknown.stderr).toBe('mycr: container "no-such" does not exist\n');
});
