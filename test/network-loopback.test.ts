// CVE-2020-8558 and its class: a container must never reach a host socket bound to
// 127.0.0.0/8, whatever route_localnet says, on any mycr network, before or after a
// -p container ran there; `-p 127.0.0.1:PORT:...` keeps working from the host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { basename } from "node:path";
import { WORK } from "./helpers/env";
import { mycr, mycrBackground } from "./helpers/mycr";
import { buildFixture, canBuildProbe } from "./helpers/probe";
import { busyboxRootfs } from "./helpers/rootfs";

const havePlugins = ["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"].some((p) => Bun.file(p).size > 0);
const name = `lbx${process.pid % 1000}`;
const subnet = `10.93.${20 + (process.pid % 200)}.0/24`;
let rootfs: string;
let probe: string | null = null;
let server: TCPSocketListener<undefined>;
let accepted = 0;

beforeAll(async () => {
  rootfs = busyboxRootfs();
  probe = canBuildProbe ? buildFixture("loopback-escape") : null;
  // What the attacker is after: a service that trusts 127.0.0.1 to mean "this host".
  server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        accepted++;
      },
      data(s: Socket<undefined>) {
        s.end("HTTP/1.0 200 OK\r\n\r\nloopback-only secret\n");
      },
    },
  });
  await mycr(["network", "create", "--subnet", subnet, name]);
});

afterAll(async () => {
  server?.stop(true);
  await mycr(["gc"]);
  await mycr(["network", "rm", name]);
});

/**
 * The attack from inside a container on `network`: learn the gateway's (the bridge's)
 * MAC address as any container can, then 20 hand-made handshakes with 127.0.0.1:PORT
 * sent to it. Returns the probe's report.
 */
async function attack(network: string): Promise<string> {
  const script = [
    "gw=$(ip route | awk '/^default/ {print $3}')",
    "ping -c 1 -W 1 $gw >/dev/null 2>&1",
    "mac=$(awk -v gw=$gw '$1 == gw {print $4}' /proc/net/arp)",
    'echo "bridge mac: $mac"',
    `/w/${basename(probe!)} eth0 $mac ${server.port} 20`,
  ].join("; ");
  const r = await mycr(["run", "--rootfs", rootfs, "--network", network, "-v", `${WORK}:/w:ro`, "--", "sh", "-c", script], { timeoutMs: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.stdout).toMatch(/bridge mac: ([0-9a-f]{2}:){5}[0-9a-f]{2}\n/);
  return r.stdout;
}

function expectNoEscape(report: string): void {
  expect(report).not.toContain("syn-ack from");
  expect(report).not.toContain("answer:");
  expect(report).toContain("syn-acks=0 answers=0\n");
  expect(accepted).toBe(0);
}

describe.if(havePlugins && canBuildProbe)("loopback escape (CVE-2020-8558)", () => {
  test("loopback escape: a raw SYN to 127.0.0.1 at the bridge's MAC never reaches a host service, on a network no -p container used", async () => {
    expect(probe).not.toBeNull();
    expectNoEscape(await attack(name));
  });

  test("loopback escape: still refused while and after a -p 127.0.0.1:PORT container runs on the network (route_localnet=1), and that port works from the host", async () => {
    const port = 20000 + (process.pid % 20000);
    const web = mycrBackground([
      "run", "--rootfs", rootfs, "--network", name, "-p", `127.0.0.1:${port}:8080`, "--", "sh", "-c",
      "mkdir -p /www && echo published-on-loopback > /www/index.html && echo up && httpd -f -p 8080 -h /www",
    ]);
    try {
      await web.waitFor("up");
      let body = "";
      for (let i = 0; i < 50 && body === ""; i++) {
        body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => "");
        if (body === "") await Bun.sleep(100);
      }
      expect(body).toBe("published-on-loopback\n");
      expectNoEscape(await attack(name));
    } finally {
      web.proc.kill("SIGKILL");
      await web.result();
      await mycr(["gc"]); // mycr was killed: gc detaches what it could not
    }
    // The flag portmap set stays on the bridge after the container: the guard must too.
    expectNoEscape(await attack(name));
  });

  test("loopback escape: refused on the default network too", async () => {
    expectNoEscape(await attack("bridge"));
  });
});
