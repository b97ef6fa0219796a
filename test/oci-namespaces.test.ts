// Issue 15, "Namespaces": time namespaces with linux.timeOffsets (new and by path), a
// mount namespace given by path, and a config without a mount namespace, whose mounts
// land in the runtime's namespace and must all be gone after delete.
import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../src/spec/types";
import { WORK } from "./helpers/env";
import { makeBundle, uniqueId, withDetached } from "./helpers/bundle";
import { busyboxRootfs } from "./helpers/rootfs";
import { mycr, mycrBackground } from "./helpers/mycr";

const DAY = 86400;

async function runWith(script: string, adjust: (spec: Spec) => void) {
  const bundle = await makeBundle(["sh", "-c", script], adjust);
  return mycr(["run", "--bundle", bundle, uniqueId("nsx")]);
}

function hostUptime(): number {
  return Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
}

function withTimeOffsets(s: Spec, boottime: number, monotonic: number): void {
  s.linux!.namespaces!.push({ type: "time" });
  s.linux!.timeOffsets = { boottime: { secs: boottime, nanosecs: 0 }, monotonic: { secs: monotonic, nanosecs: 500 } };
}

/** Mount points below `dir` in the test's (the host's) mount namespace. */
function mountsBelow(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(`${dir}/`));
}

describe("time namespace", () => {
  test("linux.timeOffsets: /proc/uptime is shifted by the boottime offset, timens_offsets reads them back", async () => {
    const before = hostUptime();
    const r = await runWith("cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets", (s) => withTimeOffsets(s, 3 * DAY, 2 * DAY));
    const after = hostUptime();
    expect(r.stderr).toBe("");
    const [uptime, ...offsets] = r.stdout.trim().split("\n");
    expect(Number(uptime)).toBeGreaterThanOrEqual(before + 3 * DAY);
    expect(Number(uptime)).toBeLessThanOrEqual(after + 3 * DAY);
    expect(offsets.map((l) => l.trim().split(/\s+/).join(" ")).sort()).toEqual(["boottime 259200 0", "monotonic 172800 500"]);
  }, 30_000);

  test("a time namespace by path: a second container joins the first's clocks", async () => {
    const first = await makeBundle(["sleep", "30"], (s) => withTimeOffsets(s, 5 * DAY, 0));
    await withDetached(first, "tns", async (_, pid) => {
      const r = await runWith("cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time", (s) => {
        s.linux!.namespaces!.push({ type: "time", path: `/proc/${pid}/ns/time` });
      });
      expect(r.stderr).toBe("");
      const [uptime, ns] = r.stdout.trim().split("\n");
      expect(Number(uptime)).toBeGreaterThan(hostUptime() + 5 * DAY - 60);
      expect(ns).toBe(`time:[${statSync(`/proc/${pid}/ns/time`).ino}]`);
    });
  }, 30_000);

  test("exec joins the container's time namespace", async () => {
    const bundle = await makeBundle(["sleep", "30"], (s) => withTimeOffsets(s, 7 * DAY, 0));
    await withDetached(bundle, "tnx", async (id) => {
      const r = await mycr(["exec", id, "cut", "-d ", "-f1", "/proc/uptime"]);
      expect(r.stderr).toBe("");
      expect(Number(r.stdout.trim())).toBeGreaterThan(hostUptime() + 7 * DAY - 60);
    });
  }, 30_000);

  test("refused: offsets without a new time namespace, and a clock that has none", async () => {
    const noNs = await runWith("true", (s) => (s.linux!.timeOffsets = { boottime: { secs: 1 } }));
    expect(noNs.exitCode).toBe(125);
    expect(noNs.stderr.trim()).toBe('mycr: config.json: linux.timeOffsets: offsets need a new time namespace; add {"type": "time"} (without a path) to linux.namespaces');
    const realtime = await runWith("true", (s) => {
      s.linux!.namespaces!.push({ type: "time" });
      s.linux!.timeOffsets = { realtime: { secs: 1 } };
    });
    expect(realtime.exitCode).toBe(125);
    expect(realtime.stderr.trim()).toBe("mycr: config.json: linux.timeOffsets.realtime: only monotonic and boottime clocks have offsets");
  }, 30_000);
});

describe("mount namespace by path", () => {
  test("the container runs in the given mount namespace, and its mounts stay there, not in the host's", async () => {
    const dir = join(WORK, "mntns", `${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    // A namespace file needs a mount point of its own with private propagation.
    const held = join(dir, "ns");
    writeFileSync(held, "");
    const setup = Bun.spawnSync(["sh", "-c", `mount --bind ${dir} ${dir} && mount --make-private ${dir} && unshare --mount=${held} true`]);
    expect(setup.exitCode).toBe(0);
    const bundle = await makeBundle(["sh", "-c", "readlink /proc/self/ns/mnt; sleep 30"], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "mount" ? { type: "mount", path: held } : n));
    });
    const id = uniqueId("mns");
    try {
      const created = await mycr(["create", "--bundle", bundle, id], { leavesContainer: true });
      expect(created.stderr).toBe("");
      const state = JSON.parse((await mycr(["state", id])).stdout) as { pid: number };
      // init is in the held namespace; the container's /proc is mounted there, not here
      expect(statSync(`/proc/${state.pid}/ns/mnt`).ino).toBe(statSync(held).ino);
      expect(mountsBelow(busyboxRootfs())).toEqual([]);
    } finally {
      await mycr(["delete", "-f", id]);
      Bun.spawnSync(["sh", "-c", `umount ${held}; umount ${dir}`]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("no mount namespace", () => {
  /** A private copy of the busybox root: its mounts are made in the host's namespace. */
  function ownRootfs(): string {
    const dir = join(WORK, "shared-mnt", `${process.pid}-${Date.now()}`);
    cpSync(busyboxRootfs(), dir, { recursive: true, verbatimSymlinks: true });
    return dir;
  }

  /** Removes a rootfs of ownRootfs(), never through a mount a failed test left in it (/sys, /proc...). */
  function removeRootfs(rootfs: string): void {
    for (const point of mountsBelow(rootfs).reverse()) Bun.spawnSync(["umount", "-l", point]);
    rmSync(rootfs, { recursive: true, force: true });
  }

  function withoutMountNamespace(s: Spec, rootfs: string): void {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "mount");
    s.root = { path: rootfs, readonly: false };
    delete s.linux!.maskedPaths;
    delete s.linux!.readonlyPaths;
    s.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
  }

  test("the spec's mounts are made in the runtime's namespace, under the root; delete removes every one", async () => {
    const rootfs = ownRootfs();
    const bundle = await makeBundle(["sh", "-c", "echo inside > /tmp/f; sleep 30"], (s) => withoutMountNamespace(s, rootfs));
    const id = uniqueId("shm");
    try {
      for (let round = 0; round < 2; round++) {
        await mycr(["run", "-d", "--bundle", bundle, id], { leavesContainer: true });
        let seen: string[] = [];
        const written = `/proc/self/root${rootfs}/tmp/f`;
        for (let i = 0; i < 300 && !(seen.includes(`${rootfs}/tmp`) && existsSync(written)); i++) {
          await Bun.sleep(50);
          seen = mountsBelow(rootfs);
        }
        // visible from the host: /proc, /dev, /tmp... of the container, in our own namespace
        expect(seen).toContain(`${rootfs}/proc`);
        expect(seen).toContain(`${rootfs}/tmp`);
        expect(readFileSync(written, "utf8")).toBe("inside\n");
        const del = await mycr(["delete", "-f", id]);
        expect(del.exitCode).toBe(0);
        expect(mountsBelow(rootfs)).toEqual([]);
      }
    } finally {
      await mycr(["delete", "-f", id]);
      removeRootfs(rootfs);
    }
  }, 60_000);

  test("a foreground run leaves no mount behind, and the process sees the root filesystem as /", async () => {
    const rootfs = ownRootfs();
    try {
      writeFileSync(join(rootfs, "marker"), "the container's root\n");
      const r = await runWith("cat /marker; test -e /work && echo host-root-visible; echo done", (s) => withoutMountNamespace(s, rootfs));
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("the container's root\ndone\n");
      expect(mountsBelow(rootfs)).toEqual([]);
    } finally {
      removeRootfs(rootfs);
    }
  }, 30_000);

  test("a program that cannot be found fails the run (127) after the mounts were made, and they are gone", async () => {
    const rootfs = ownRootfs();
    try {
      const bundle = await makeBundle(["/no/such/program"], (s) => withoutMountNamespace(s, rootfs));
      const r = await mycr(["run", "--bundle", bundle, uniqueId("shf")]);
      expect(r.exitCode).toBe(127);
      expect(mountsBelow(rootfs)).toEqual([]);
    } finally {
      removeRootfs(rootfs);
    }
  }, 30_000);

  test("after mycr itself is SIGKILLed, mycr gc removes the mounts the container left in the host's namespace", async () => {
    const rootfs = ownRootfs();
    try {
      const bundle = await makeBundle(["sh", "-c", "echo ready; sleep 60"], (s) => withoutMountNamespace(s, rootfs));
      const bg = mycrBackground(["run", "--bundle", bundle, uniqueId("shk")]);
      await bg.waitFor("ready");
      bg.proc.kill("SIGKILL");
      await bg.result();
      expect(mountsBelow(rootfs)).toContain(`${rootfs}/proc`); // nobody was left to remove them
      const gc = await mycr(["gc"]);
      expect(gc.exitCode).toBe(0);
      expect(mountsBelow(rootfs)).toEqual([]);
    } finally {
      removeRootfs(rootfs);
    }
  }, 30_000);

  test("refused: masked paths, a read-only root and root propagation need a mount namespace", async () => {
    const rootfs = ownRootfs();
    try {
      const r = await runWith("true", (s) => {
        withoutMountNamespace(s, rootfs);
        s.linux!.maskedPaths = ["/proc/kcore"];
      });
      expect(r.exitCode).toBe(125);
      expect(r.stderr).toContain("config.json: linux.maskedPaths: masking and read-only paths need a mount namespace");
      const ro = await runWith("true", (s) => {
        withoutMountNamespace(s, rootfs);
        s.root!.readonly = true;
      });
      expect(ro.stderr).toContain("config.json: root.readonly: a read-only root needs a mount namespace");
      expect(mountsBelow(rootfs)).toEqual([]);
    } finally {
      removeRootfs(rootfs);
    }
  }, 30_000);
});
