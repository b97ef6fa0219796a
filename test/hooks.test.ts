// OCI hooks: each kind runs at its point with the state on stdin; failures before the
// start stop the container, later ones only warn.
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";

function recorder(dir: string, kind: string, inContainer = false) {
  // startContainer runs inside the container: its /bin/sh is busybox, and it writes to the bind mount.
  const target = inContainer ? `/hooks/${kind}.json` : join(dir, `${kind}.json`);
  return { path: "/bin/sh", args: ["sh", "-c", `cat > ${target}`] };
}

test("every hook runs once, at its point, with the container's state", async () => {
  const dir = join(WORK, `hooks-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bundle = await makeBundle(["sh", "-c", `ls /hooks > /hooks/seen-by-process`], (spec) => {
    spec.mounts!.push({ destination: "/hooks", type: "bind", source: dir, options: ["rbind", "rw"] });
    spec.hooks = {
      prestart: [recorder(dir, "prestart")],
      createRuntime: [recorder(dir, "createRuntime")],
      createContainer: [recorder(dir, "createContainer")],
      startContainer: [recorder(dir, "startContainer", true)],
      poststart: [recorder(dir, "poststart")],
      poststop: [recorder(dir, "poststop")],
    };
  });
  const id = uniqueId("hooks");
  expect((await mycr(["create", "-b", bundle, id])).exitCode).toBe(0);
  for (const kind of ["prestart", "createRuntime", "createContainer"]) {
    const state = JSON.parse(readFileSync(join(dir, `${kind}.json`), "utf8"));
    expect(state).toMatchObject({ ociVersion: "1.2.0", id, bundle, status: "creating" });
    expect(state.pid).toBeGreaterThan(1);
  }
  expect(existsSync(join(dir, "startContainer.json"))).toBe(false);
  expect((await mycr(["start", id])).exitCode).toBe(0);
  expect(JSON.parse(readFileSync(join(dir, "startContainer.json"), "utf8")).status).toBe("created");
  expect(JSON.parse(readFileSync(join(dir, "poststart.json"), "utf8")).status).toBe("running");
  // the shell makes the file before ls writes to it: wait for its contents, not its existence
  const seen = join(dir, "seen-by-process");
  for (let i = 0; i < 100 && !(existsSync(seen) && readFileSync(seen, "utf8").includes("\n")); i++) await Bun.sleep(20);
  // startContainer ran before the process: the process saw its file
  expect(readFileSync(seen, "utf8")).toContain("startContainer.json");
  expect(existsSync(join(dir, "poststop.json"))).toBe(false);
  for (let i = 0; i < 100 && JSON.parse((await mycr(["state", id])).stdout).status !== "stopped"; i++) await Bun.sleep(20);
  expect((await mycr(["delete", id])).exitCode).toBe(0);
  expect(JSON.parse(readFileSync(join(dir, "poststop.json"), "utf8"))).toMatchObject({ id, status: "stopped" });
});

test("exec runs no hooks: startContainer ran once, at the container's start", async () => {
  const dir = join(WORK, `hooks-exec-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bundle = await makeBundle(["sleep", "100"], (spec) => {
    spec.mounts!.push({ destination: "/hooks", type: "bind", source: dir, options: ["rbind", "rw"] });
    spec.hooks = { startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "echo ran >> /hooks/count"] }] };
  });
  const id = uniqueId("hooks-exec");
  expect((await mycr(["create", "-b", bundle, id])).exitCode).toBe(0);
  try {
    expect((await mycr(["start", id])).exitCode).toBe(0);
    for (let i = 0; i < 3; i++) expect((await mycr(["exec", id, "true"])).exitCode).toBe(0);
    expect(readFileSync(join(dir, "count"), "utf8")).toBe("ran\n");
  } finally {
    await mycr(["delete", "--force", id]);
  }
});

test("a failing createRuntime hook fails create with its message, and nothing is left", async () => {
  const bundle = await makeBundle(["true"], (spec) => {
    spec.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", "echo network is down >&2; exit 3"] }] };
  });
  const id = uniqueId("hookfail");
  const r = await mycr(["create", "-b", bundle, id]);
  expect(r.stderr).toBe("mycr: createRuntime hook /bin/sh failed: exit status 3: network is down\n");
  expect(r.exitCode).toBe(125);
  expect((await mycr(["state", id])).exitCode).toBe(125);
});

test("a hook that outlives its timeout is killed and fails the start", async () => {
  const bundle = await makeBundle(["true"], (spec) => {
    spec.hooks = { prestart: [{ path: "/bin/sleep", args: ["sleep", "30"], timeout: 1 }] };
  });
  const started = Date.now();
  const r = await mycr(["run", "--bundle", bundle, uniqueId("hooktimeout")]);
  expect(r.stderr).toBe("mycr: prestart hook /bin/sleep failed: timed out after 1s\n");
  expect(Date.now() - started).toBeLessThan(10_000);
});

test("a failing poststart hook is a warning: the container runs", async () => {
  const bundle = await makeBundle(["sh", "-c", "echo ran"], (spec) => {
    spec.hooks = { poststart: [{ path: "/bin/false" }] };
  });
  const r = await mycr(["run", "--bundle", bundle, uniqueId("poststart")]);
  expect(r.stdout).toBe("ran\n");
  expect(r.exitCode).toBe(0);
  expect(r.stderr).toBe("mycr: warning: poststart hook /bin/false failed: exit status 1\n");
});
