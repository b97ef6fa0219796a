// Issue 13: one container read another's `-e DB_PASSWORD=...` from state.json, through a
// --rootfs that was the host's root under another spelling. Every spelling of "/" (and a
// directory that contains mycr's stores) must hide MYCR_STATE and MYCR_ROOT, and the
// records that hold a container's environment must be root's alone on the host.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, cpSync, mkdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, TEST_STATE, WORK, mycrEnv } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const dir = join(WORK, `secret-theft-${process.pid}`);
const bindRoot = join(dir, "bind-of-root");
// The secret, never written whole on the thief's command line (its own state.json would
// hold it): the container joins the two halves.
const suffix = `x${process.pid}${Date.now()}`;
const SECRET = `s3cret-${suffix}`;
let holder = "";

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  symlinkSync("/", join(dir, "to-root"));
  symlinkSync("../../../../../../../../..", join(dir, "up-to-root"));
  symlinkSync(join(dir, "to-root"), join(dir, "link-to-link"));
  mkdirSync(bindRoot);
  expect(Bun.spawnSync(["mount", "--bind", "/", bindRoot]).exitCode).toBe(0);
  // Stores left readable by others (an older mycr, a hand-made dir) are narrowed, and a
  // permissive umask widens nothing.
  for (const d of [TEST_STATE, TEST_ROOT, join(TEST_ROOT, "containers")]) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o755);
  }
  const proc = Bun.spawn(["sh", "-c", 'umask 000; exec "$0" "$@"', MYCR, "run", "-d", "-e", `DB_PASSWORD=${SECRET}`, "--", "sleep", "600"], {
    env: mycrEnv(),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(err).toBe("");
  expect(await proc.exited).toBe(0);
  holder = out.trim();
});

afterAll(async () => {
  if (holder) await mycr(["rm", "-f", holder]);
  Bun.spawnSync(["umount", bindRoot]);
  rmSync(dir, { recursive: true, force: true });
});

/** What a container with this --rootfs finds of the secret under mycr's stores (grep -rl output). */
async function steal(rootfs: string, env: Record<string, string> = {}, stores = [TEST_STATE, TEST_ROOT]): Promise<string> {
  const script = 'p=s3cret; for d in "$@"; do grep -rl "$p-$SUFFIX" "$d" 2>/dev/null; done; echo searched';
  const r = await mycr(["run", "--network", "none", "--rootfs", rootfs, "-e", `SUFFIX=${suffix}`, "--", "sh", "-c", script, "sh", ...stores], { env });
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toEndWith("searched\n");
  return r.stdout.replace(/searched\n$/, "");
}

test("secret theft: a container whose --rootfs is a symlink to / cannot read another container's state", async () => {
  // The attack works only if the secret is there to find: the host sees it.
  const found = Bun.spawnSync(["grep", "-rl", SECRET, TEST_STATE, join(TEST_ROOT, "containers")]).stdout.toString();
  expect(found).toContain("state.json");
  expect(found).toContain("monitor.json");
  for (let round = 0; round < 3; round++) {
    expect(await steal(join(dir, "to-root"))).toBe("");
  }
});

test("secret theft: every spelling of the host's root hides mycr's stores", async () => {
  const spellings = ["/", "//", "/.", "/./", "/../", "///.//", join(dir, "up-to-root"), join(dir, "link-to-link"), `${join(dir, "to-root")}/`];
  for (const rootfs of spellings) expect({ rootfs, found: await steal(rootfs) }).toEqual({ rootfs, found: "" });
});

test("secret theft: a bind mount of / as --rootfs hides mycr's stores (same st_dev and st_ino)", async () => {
  for (let round = 0; round < 3; round++) expect(await steal(bindRoot)).toBe("");
});

test("secret theft: a --rootfs that contains mycr's stores hides them", async () => {
  // A root with a shell whose var/lib and run hold the stores of a mycr pointed there.
  const root = join(dir, "outer-root");
  cpSync(busyboxRootfs(), root, { recursive: true, verbatimSymlinks: true });
  const env = { MYCR_ROOT: join(root, "var/lib/mycr"), MYCR_STATE: join(root, "run/mycr") };
  const r = await mycr(["run", "-d", "--network", "none", "-e", `DB_PASSWORD=${SECRET}`, "--", "sleep", "600"], { env });
  expect(r.exitCode).toBe(0);
  const inner = r.stdout.trim();
  try {
    for (let round = 0; round < 3; round++) {
      expect(await steal(root, env, ["/var", "/run"])).toBe("");
    }
  } finally {
    await mycr(["rm", "-f", inner], { env });
  }
});

test("secret theft: a --rootfs or -v inside mycr's stores is refused", async () => {
  for (const path of [TEST_STATE, join(TEST_ROOT, "containers"), join(TEST_STATE, holder)]) {
    const r = await mycr(["run", "--rootfs", path, "--", "true"]);
    expect(r.stderr).toBe(`mycr: --rootfs ${path}: inside mycr's own store ${path.startsWith(TEST_STATE) ? TEST_STATE : TEST_ROOT}, which holds other containers' records; use a directory outside it\n`);
    expect(r.exitCode).toBe(125);
  }
  const v = await mycr(["run", "-v", `${TEST_STATE}:/state`, "--", "true"]);
  expect(v.stderr).toStartWith(`mycr: -v ${TEST_STATE}: inside mycr's own store`);
  expect(v.exitCode).toBe(125);
});

test("secret theft: a volume that contains mycr's stores hides them", async () => {
  for (let round = 0; round < 3; round++) {
    const script = 'p=s3cret; grep -rl "$p-$SUFFIX" /host/run /host/var/lib 2>/dev/null; echo searched';
    const r = await mycr(["run", "--network", "none", "-v", "/:/host:ro", "-e", `SUFFIX=${suffix}`, "--", "sh", "-c", script]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("searched\n");
  }
});

test("an empty --rootfs is refused, not taken as the host's root", async () => {
  for (const flags of [["--rootfs", ""], ["--rootfs="]]) {
    for (const detach of [[], ["-d"]]) {
      const r = await mycr(["run", ...detach, ...flags, "--", "true"]);
      expect(r.stderr).toBe("mycr: --rootfs: empty; give a directory (leave the flag out to use the host's root)\n");
      expect(r.stdout).toBe("");
      expect(r.exitCode).toBe(125);
    }
  }
});

test("secret theft from the host (even under umask 000, over stores left 0755): the records holding a container's environment are root's alone", () => {
  const mode = (p: string) => statSync(p).mode & 0o777;
  expect(mode(join(TEST_STATE, holder))).toBe(0o700);
  expect(mode(join(TEST_STATE, holder, "state.json"))).toBe(0o600);
  expect(mode(TEST_STATE)).toBe(0o711); // others may not list the containers
  expect(mode(TEST_ROOT)).toBe(0o711);
  expect(mode(join(TEST_ROOT, "containers"))).toBe(0o700);
  const cdir = join(TEST_ROOT, "containers", holder);
  expect(mode(cdir)).toBe(0o700);
  for (const f of ["monitor.json", "container.json", "container.log"]) expect({ f, mode: mode(join(cdir, f)) }).toEqual({ f, mode: 0o600 });
});
