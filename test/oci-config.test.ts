// config.json, section by section: each field read back from inside the container or
// from the kernel, through the OCI face (`run --bundle`).
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../src/spec/types";
import { WORK } from "./helpers/env";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";

async function runWith(script: string, adjust: (spec: Spec) => void): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const bundle = await makeBundle(["sh", "-c", script], adjust);
  return mycr(["run", "--bundle", bundle, uniqueId("cfg")]);
}

describe("process", () => {
  test("env, cwd, user with additionalGids and umask", async () => {
    const r = await runWith("echo $GREETING; pwd; id -u; id -g; id -G; umask", (s) => {
      s.process!.env!.push("GREETING=hello");
      s.process!.cwd = "/tmp";
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [27, 44], umask: 0o027 };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["hello", "/tmp", "1000", "1000", "1000 27 44", "0027"]);
  });

  test("capabilities (all five sets) and noNewPrivileges", async () => {
    const r = await runWith("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status", (s) => {
      const caps = ["CAP_CHOWN", "CAP_KILL"];
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
      s.process!.noNewPrivileges = true;
    });
    const lines = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(/:\s+/) as [string, string]));
    const mask = ((1 << 0) | (1 << 5)).toString(16).padStart(16, "0"); // CHOWN=0, KILL=5
    expect(lines).toMatchObject({ CapEff: mask, CapPrm: mask, CapBnd: mask, CapInh: "0000000000000000", CapAmb: "0000000000000000", NoNewPrivs: "1" });
  });

  test("runc spec's default (ambient capabilities without inheritable ones) runs: what can be raised is, the rest is named in a warning", async () => {
    const r = await runWith("grep -E '^(CapInh|CapEff|CapAmb)' /proc/self/status", (s) => {
      const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
      // KILL is also inheritable, so it can be ambient; the other two cannot.
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: ["CAP_KILL"], ambient: caps };
    });
    expect(r.exitCode).toBe(0);
    const lines = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(/:\s+/) as [string, string]));
    const kill = (1 << 5).toString(16).padStart(16, "0");
    expect(lines).toMatchObject({ CapInh: kill, CapAmb: kill });
    expect(r.stderr).toContain("process.capabilities.ambient: CAP_AUDIT_WRITE, CAP_NET_BIND_SERVICE not raised");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("rlimits and oomScoreAdj", async () => {
    const r = await runWith("ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj", (s) => {
      s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 512, hard: 768 }];
      s.process!.oomScoreAdj = 300;
    });
    expect(r.stdout.trim().split("\n")).toEqual(["512", "768", "300"]);
  });
});

describe("root, names, mounts", () => {
  test("root.readonly, hostname, domainname", async () => {
    const r = await runWith("touch /x 2>/dev/null || echo ro; hostname; cat /proc/sys/kernel/domainname", (s) => {
      s.root!.readonly = true;
      s.hostname = "cfg-host";
      s.domainname = "example.test";
    });
    expect(r.stdout.trim().split("\n")).toEqual(["ro", "cfg-host", "example.test"]);
  });

  test("bind (read-only), tmpfs with options, mqueue", async () => {
    const dir = join(WORK, `cfg-bind-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "file"), "from the host\n");
    const r = await runWith("cat /data/file; touch /data/new 2>/dev/null || echo data-ro; grep ' /scratch ' /proc/self/mounts | cut -d' ' -f3,4", (s) => {
      s.mounts!.push({ destination: "/data", type: "bind", source: dir, options: ["rbind", "ro"] });
      s.mounts!.push({ destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["nosuid", "size=1m", "mode=700"] });
    });
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("from the host");
    expect(lines[1]).toBe("data-ro");
    expect(lines[2]).toMatch(/^tmpfs rw,nosuid,.*size=1024k,mode=700/);
  });

  test("maskedPaths and readonlyPaths", async () => {
    const r = await runWith("cat /proc/kallsyms | wc -c; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro", (s) => {
      s.linux!.maskedPaths = ["/proc/kallsyms"];
      s.linux!.readonlyPaths = ["/proc/sys"];
    });
    expect(r.stdout.trim().split("\n")).toEqual(["0", "sys-ro"]);
  });

  test("rootfsPropagation is applied to the container's root", async () => {
    const r = await runWith("awk '$5 == \"/\"' /proc/self/mountinfo", (s) => {
      s.linux!.rootfsPropagation = "rshared";
    });
    expect(r.stdout).toContain("shared:");
  });
});

describe("linux", () => {
  test("a namespace joined by path: the network and UTS namespaces of another container", async () => {
    const holder = await makeBundle(["sh", "-c", "hostname holder-box; sleep 30"], (s) => {
      s.hostname = "holder-box";
    });
    const id = uniqueId("holder");
    await mycr(["run", "-d", "--bundle", holder, id]);
    try {
      const pid = JSON.parse((await mycr(["state", id])).stdout).pid as number;
      const { readlinkSync } = await import("node:fs");
      const r = await runWith("hostname; readlink /proc/self/ns/net", (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
          n.type === "network" || n.type === "uts" ? { type: n.type, path: `/proc/${pid}/ns/${n.type === "network" ? "net" : "uts"}` } : n,
        );
        delete s.hostname; // the holder's namespace already has one
      });
      const [host, netns] = r.stdout.trim().split("\n");
      expect(host).toBe("holder-box");
      expect(netns).toBe(readlinkSync(`/proc/${pid}/ns/net`));
    } finally {
      await mycr(["delete", "-f", id]);
    }
  });

  test("sysctl (namespaced)", async () => {
    const r = await runWith("cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_forward", (s) => {
      s.linux!.sysctl = { "kernel.shmmni": "2048", "net.ipv4.ip_forward": "1" };
    });
    expect(r.stdout.trim().split("\n")).toEqual(["2048", "1"]);
  });

  test("devices: a node made inside and allowed in the device cgroup", async () => {
    const r = await runWith("ls -l /dev/fuse | cut -c1; stat -c '%t:%T' /dev/fuse", (s) => {
      s.linux!.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
      s.linux!.resources = { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: 229, access: "rwm" }] };
    });
    expect(r.stdout.trim().split("\n")).toEqual(["c", "a:e5"]);
  });

  test("annotations are part of the state", async () => {
    const bundle = await makeBundle(["sleep", "30"], (s) => {
      s.annotations = { "org.example.role": "test" };
    });
    const id = uniqueId("annotated");
    await mycr(["create", "-b", bundle, id]);
    const state = JSON.parse((await mycr(["state", id])).stdout);
    expect(state.annotations).toEqual({ "org.example.role": "test" });
    await mycr(["delete", "-f", id]);
  });
});
