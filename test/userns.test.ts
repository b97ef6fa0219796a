// Issue 16, as root through the OCI face: user namespaces (new and by path) with
// uidMappings/gidMappings, idmapped bind mounts, and a remapped root that cannot write
// what the host's root owns. Each value is read back from inside the container.
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IdMapping, Spec } from "../src/spec/types";
import { WORK } from "./helpers/env";
import { makeBundle, uniqueId, withDetached } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";

const RANGE: IdMapping[] = [{ containerID: 0, hostID: 200000, size: 65536 }];

function inUserNamespace(s: Spec, uids: IdMapping[] = RANGE, gids: IdMapping[] = RANGE): void {
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = uids;
  s.linux!.gidMappings = gids;
}

async function runWith(script: string, adjust: (spec: Spec) => void, env?: Record<string, string>) {
  const bundle = await makeBundle(["sh", "-c", script], adjust);
  return mycr(["run", "--bundle", bundle, uniqueId("uns")], env ? { env } : {});
}

/** A directory of the test's own on the host (removed by the caller). */
function hostDir(name: string): string {
  const dir = join(WORK, "userns", `${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("user namespace", () => {
  test("uidMappings and gidMappings read back from /proc/self/uid_map and gid_map; root inside, the host's files owned by nobody", async () => {
    const uids = [{ containerID: 0, hostID: 200000, size: 1000 }, { containerID: 1000, hostID: 300000, size: 10 }];
    const gids = [{ containerID: 0, hostID: 210000, size: 65536 }];
    const r = await runWith("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u:%g /bin/busybox", (s) => inUserNamespace(s, uids, gids));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines).toEqual(["0 200000 1000", "1000 300000 10", "0 210000 65536", "0", "0", "65534:65534"]);
  });

  // The C child comes built into the binary when build.ts found a C compiler (it did
  // wherever `cc` is on PATH, as on CI), else from TinyCC at run time: both must work.
  for (const way of ["prebuilt", "tinycc"] as const) {
    test(`the C child that enters the user namespace works ${way === "prebuilt" ? "built into the binary" : "compiled by TinyCC at run time (MYCR_NATIVE=tinycc)"}`, async () => {
      if (way === "prebuilt" && !Bun.which("cc")) return; // built without a compiler: the TinyCC case covers it
      const env = { MYCR_TRACE: "1", ...(way === "tinycc" ? { MYCR_NATIVE: "tinycc" } : {}) };
      const r = await runWith("cat /proc/self/uid_map; id -u", (s) => inUserNamespace(s), env);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "))).toEqual(["0 200000 65536", "0"]);
      expect(r.stderr).toContain(`C child loaded (${way})`);
    });
  }

  test("the container's root is not the host's: a process it starts runs as the mapped id on the host", async () => {
    const dir = hostDir("owner");
    chmodSync(dir, 0o777);
    try {
      const r = await runWith("echo hi > /var/made-inside; stat -c %u /var/made-inside", (s) => {
        inUserNamespace(s);
        s.mounts!.push({ destination: "/var", type: "bind", source: dir, options: ["rbind", "rw"] });
      });
      expect(r.stdout.trim()).toBe("0"); // root inside...
      const st = statSync(join(dir, "made-inside"));
      expect([st.uid, st.gid]).toEqual([200000, 200000]); // ...the mapped ids outside
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("escape: a remapped root cannot write, replace, chmod or chown a root-owned host file reached through a bind mount (repeated)", async () => {
    const dir = hostDir("escape");
    const target = join(dir, "root-owned");
    writeFileSync(target, "host secret\n");
    chmodSync(target, 0o644);
    chmodSync(dir, 0o755);
    const attempts = [
      "echo pwned > /root/root-owned",
      "echo pwned >> /root/root-owned",
      "truncate -s 0 /root/root-owned",
      "chmod 666 /root/root-owned",
      "chown 0:0 /root/root-owned",
      "rm -f /root/root-owned",
      "mv /root/root-owned /root/moved",
      "ln -f /tmp/x /root/root-owned",
      "touch /root/new-file",
    ];
    const script = `echo x > /tmp/x; n=0; for i in 1 2 3 4 5; do ${attempts.map((a) => `(${a}) 2>/dev/null && n=$((n+1));`).join(" ")} done; echo "succeeded=$n"`;
    try {
      for (let round = 0; round < 3; round++) {
        const r = await runWith(script, (s) => {
          inUserNamespace(s);
          s.mounts!.push({ destination: "/root", type: "bind", source: dir, options: ["rbind", "rw"] });
          s.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"] });
        });
        expect(r.stderr).toBe("");
        expect(r.stdout.trim()).toBe("succeeded=0");
        expect(readFileSync(target, "utf8")).toBe("host secret\n");
        const st = statSync(target);
        expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 0, 0o644]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a user namespace by path: a second container joins the first's and sees the same maps", async () => {
    const first = await makeBundle(["sleep", "30"], (s) => inUserNamespace(s));
    await withDetached(first, "unsa", async (_, pid) => {
      const r = await runWith("cat /proc/self/uid_map; id -u; readlink /proc/self/ns/user", (s) => {
        s.linux!.namespaces!.push({ type: "user", path: `/proc/${pid}/ns/user` });
      });
      expect(r.stderr).toBe("");
      const [map, uid, ns] = r.stdout.trim().split("\n");
      expect(map!.trim().split(/\s+/)).toEqual(["0", "200000", "65536"]);
      expect(uid).toBe("0");
      expect(ns).toBe(`user:[${statSync(`/proc/${pid}/ns/user`).ino}]`);
    });
  }, 30_000);

  test("exec joins the container's user namespace", async () => {
    const bundle = await makeBundle(["sleep", "30"], (s) => inUserNamespace(s));
    await withDetached(bundle, "unsx", async (id) => {
      const r = await mycr(["exec", id, "sh", "-c", "cat /proc/self/uid_map; id -u"]);
      expect(r.stderr).toBe("");
      const [map, uid] = r.stdout.trim().split("\n");
      expect(map!.trim().split(/\s+/)).toEqual(["0", "200000", "65536"]);
      expect(uid).toBe("0");
    });
  }, 30_000);
});

describe("idmapped mounts", () => {
  test("mounts[].uidMappings/gidMappings: the bind mount shows the mapped owners, unmapped ones as nobody", async () => {
    const dir = hostDir("idmap");
    writeFileSync(join(dir, "by-1000"), "a");
    chownSync(join(dir, "by-1000"), 1000, 1001);
    writeFileSync(join(dir, "by-root"), "b");
    try {
      const r = await runWith("stat -c '%n %u:%g' /vol/by-1000 /vol/by-root", (s) => {
        s.mounts!.push({
          destination: "/vol",
          type: "bind",
          source: dir,
          options: ["rbind", "ro"],
          uidMappings: [{ containerID: 1000, hostID: 2000, size: 1 }],
          gidMappings: [{ containerID: 1001, hostID: 3000, size: 1 }],
        });
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n")).toEqual(["/vol/by-1000 2000:3000", "/vol/by-root 65534:65534"]);
      expect(statSync(join(dir, "by-1000")).uid).toBe(1000); // the source itself is untouched
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with the container's own mapping, a volume owned by the host's root is root's inside, and what root writes there stays the host's root's", async () => {
    const dir = hostDir("idmap-root");
    writeFileSync(join(dir, "host-file"), "c");
    try {
      const r = await runWith("stat -c %u:%g /var/host-file; echo d > /var/made; stat -c %u /var/made", (s) => {
        inUserNamespace(s);
        s.mounts!.push({ destination: "/var", type: "bind", source: dir, options: ["rbind", "rw"], uidMappings: RANGE, gidMappings: RANGE });
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n")).toEqual(["0:0", "0"]);
      expect(statSync(join(dir, "made")).uid).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("refused", () => {
  const cases: Array<[string, (s: Spec) => void, string]> = [
    ["uidMappings without a user namespace", (s) => (s.linux!.uidMappings = RANGE), "linux.uidMappings: id mappings need a new user namespace"],
    ["a new user namespace without mappings", (s) => s.linux!.namespaces!.push({ type: "user" }), "linux.uidMappings: a new user namespace needs linux.uidMappings and linux.gidMappings"],
    [
      "an idmapped mount that is not a bind mount",
      (s) => s.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", uidMappings: RANGE, gidMappings: RANGE }),
      "uidMappings: idmapped mounts are made of bind mounts only",
    ],
    [
      "an idmapped mount with uidMappings only",
      (s) => s.mounts!.push({ destination: "/t", type: "bind", source: "/tmp", options: ["rbind"], uidMappings: RANGE }),
      "an idmapped mount needs both uidMappings and gidMappings",
    ],
  ];
  for (const [name, change, message] of cases) {
    test(name, async () => {
      const r = await runWith("true", change);
      expect(r.exitCode).toBe(125);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(message);
    });
  }
});
