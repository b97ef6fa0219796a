// Issue 19, bugs 4 and 5: a host port is published by one container at a time (docker's
// "port is already allocated"), and the ports a container publishes are found again:
// `mycr port`, the PORTS column of ps, NetworkSettings.Ports of inspect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, WORK } from "./helpers/env";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const havePlugins = ["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"].some((p) => Bun.file(p).size > 0);
let rootfs: string;
const names: string[] = [];
const image = `exposing-${process.pid}:1`;
// ports of their own per run, away from the network tests' 18089
const base = 20000 + (process.pid % 5000) * 4;
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterAll(async () => {
  if (names.length > 0) await mycr(["rm", "-f", ...names]);
  await mycr(["rmi", image]);
  await mycr(["gc"]);
});

const containerDirs = () => {
  try {
    return readdirSync(join(TEST_ROOT, "containers")).filter((n) => !n.includes(".")).sort();
  } catch {
    return [];
  }
};
const hostAddress = () => {
  const out = Bun.spawnSync(["ip", "-4", "-o", "addr", "show", "scope", "global"]).stdout.toString();
  return /inet (\d+\.\d+\.\d+\.\d+)/.exec(out.split("\n").find((l) => !/ mycr/.test(l)) ?? "")?.[1] ?? "127.0.0.1";
};

async function runD(name: string, args: string[]) {
  names.push(name);
  return mycr(["run", "-d", "--name", name, ...args]);
}

describe.if(havePlugins)("published ports", () => {
  test("a host port already published is refused: one line naming it, 125, nothing left; free again after rm", async () => {
    const port = base;
    const first = `port-a-${process.pid}`;
    expect((await runD(first, ["-p", `127.0.0.1:${port}:80`, "--rootfs", rootfs, "sleep", "600"])).exitCode).toBe(0);
    const dirs = containerDirs();

    const second = await runD(`port-b-${process.pid}`, ["-p", `127.0.0.1:${port}:80`, "--rootfs", rootfs, "sleep", "600"]);
    expect(second.exitCode).toBe(125);
    expect(second.stderr).toMatch(new RegExp(`^mycr: -p 127\\.0\\.0\\.1:${port}:80/tcp: port is already allocated: 127\\.0\\.0\\.1:${port}/tcp is published by container [0-9a-f]{12} \\(${first}\\); choose another host port\\n$`));
    expect(containerDirs()).toEqual(dirs);
    expect((await mycr(["ps", "-a", "--format", "json"])).stdout).not.toContain(`port-b-${process.pid}`);

    // 0.0.0.0 overlaps every address, in the foreground too
    const any = await mycr(["run", "-p", `${port}:80`, "--rootfs", rootfs, "true"]);
    expect(any.exitCode).toBe(125);
    expect(any.stderr).toContain(`port is already allocated: 127.0.0.1:${port}/tcp`);
    // one run giving a port twice
    const twice = await mycr(["run", "-p", `${port + 1}:80`, "-p", `127.0.0.1:${port + 1}:81`, "--rootfs", rootfs, "true"]);
    expect([twice.exitCode, twice.stderr]).toEqual([125, `mycr: -p 127.0.0.1:${port + 1}:81/tcp: 127.0.0.1:${port + 1}/tcp is already published by -p ${port + 1}:80/tcp: give each host port once\n`]);
    // udp is another port
    expect((await mycr(["run", "-p", `127.0.0.1:${port}:80/udp`, "--rootfs", rootfs, "true"])).exitCode).toBe(0);

    expect((await mycr(["rm", "-f", first])).exitCode).toBe(0);
    expect((await mycr(["run", "-p", `127.0.0.1:${port}:80`, "--rootfs", rootfs, "true"])).exitCode).toBe(0);
  }, 90_000);

  test("two runs at once for one port: exactly one gets it", async () => {
    const port = base + 2;
    const runs = await Promise.all([1, 2, 3].map((i) => runD(`port-race-${process.pid}-${i}`, ["-p", `${port}:80`, "--rootfs", rootfs, "sleep", "600"])));
    expect(runs.map((r) => r.exitCode).sort()).toEqual([0, 125, 125]);
  }, 90_000);

  test("the port of a container whose mycr was killed is free once collected", async () => {
    const port = base + 3;
    const killed = mycrBackground(["run", "-p", `${port}:80`, "--rootfs", rootfs, "--", "sh", "-c", "echo up; sleep 600"]);
    await killed.waitFor("up");
    killed.proc.kill("SIGKILL");
    await killed.result();
    const next = await mycr(["run", "-p", `${port}:80`, "--rootfs", rootfs, "true"]);
    expect([next.exitCode, next.stderr]).toEqual([0, ""]);
  }, 90_000);

  test("-P: the chosen port is an info line in the foreground, and mycr port, ps and inspect show it", async () => {
    const dir = mkdtempSync(join(WORK, "exposing-"));
    try {
      const tar = join(dir, "rootfs.tar");
      expect(Bun.spawnSync(["tar", "-C", rootfs, "-cf", tar, "."]).exitCode).toBe(0);
      expect((await mycr(["import", "-c", "EXPOSE 80", tar, image])).exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const fg = await mycr(["run", "-P", "--image", image, "true"]);
    expect(fg.exitCode).toBe(0);
    expect(fg.stderr).toMatch(/^mycr: published 80\/tcp on host port \d+ \(mycr port [0-9a-f]{12}\)\n$/);

    const name = `port-p-${process.pid}`;
    const d = await runD(name, ["-P", "--image", image, "sh", "-c", "mkdir /www && echo via-P > /www/index.html && httpd -f -p 80 -h /www"]);
    expect([d.exitCode, d.stderr]).toEqual([0, ""]);
    const listed = await mycr(["port", name]);
    const hostPort = /^80\/tcp -> 0\.0\.0\.0:(\d+)\n$/.exec(listed.stdout)?.[1];
    expect(hostPort).toBeDefined();
    expect((await mycr(["port", name, "80"])).stdout).toBe(`0.0.0.0:${hostPort}\n`);
    expect((await mycr(["port", name, "80/tcp"])).stdout).toBe(`0.0.0.0:${hostPort}\n`);
    const none = await mycr(["port", name, "81"]);
    expect([none.exitCode, none.stderr]).toEqual([125, `mycr: no public port '81/tcp' published for ${name}\n`]);

    const ps = await mycr(["ps"]);
    expect(ps.stdout.split("\n")[0]).toMatch(/STATUS +PORTS +NAMES/);
    expect(ps.stdout).toMatch(new RegExp(`0\\.0\\.0\\.0:${hostPort}->80/tcp +${name}`));
    const inspected = JSON.parse((await mycr(["inspect", name])).stdout);
    expect((Array.isArray(inspected) ? inspected[0] : inspected).NetworkSettings.Ports).toEqual({ "80/tcp": [{ HostIp: "0.0.0.0", HostPort: hostPort }] });

    let body = "";
    for (let i = 0; i < 50 && body !== "via-P\n"; i++) {
      body = await fetch(`http://${hostAddress()}:${hostPort}/`).then((r) => r.text(), () => "");
      if (body !== "via-P\n") await Bun.sleep(100);
    }
    expect(body).toBe("via-P\n");

    // stopped: no ports any more
    expect((await mycr(["stop", "-t", "0", name])).exitCode).toBe(0);
    expect((await mycr(["port", name])).stdout).toBe("");
  }, 90_000);
});
