// Networking through CNI with the plugins from apt (containernetworking-plugins):
// the default bridge, named networks, published ports, DNS and hosts, and no veth,
// address or rule left behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT } from "./helpers/env";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const havePlugins = ["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"].some((p) => Bun.file(p).size > 0);
let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

const iptablesLines = () => Bun.spawnSync(["iptables-save"]).stdout.toString().split("\n").filter((l) => l.startsWith("-A")).length;
const leases = (net: string) => {
  try {
    return readdirSync(join(TEST_ROOT, "cni", "ipam", net)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    return [];
  }
};
const hostAddress = () => {
  const out = Bun.spawnSync(["ip", "-4", "-o", "addr", "show", "scope", "global"]).stdout.toString();
  return /inet (\d+\.\d+\.\d+\.\d+)/.exec(out.split("\n").find((l) => !/ mycr/.test(l)) ?? "")?.[1] ?? "127.0.0.1";
};

describe.if(havePlugins)("bridge networking", () => {
  test("the default network: an address on the mycr bridge, resolv.conf, hosts with the container's name", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "--name", `net-${process.pid}`, "--", "sh", "-c", "ip -4 -o addr show eth0; cat /etc/hosts; cat /etc/resolv.conf"]);
    expect(r.exitCode).toBe(0);
    const ip = /inet (10\.89\.0\.\d+)\//.exec(r.stdout)?.[1];
    expect(ip).toBeDefined();
    expect(r.stdout).toMatch(new RegExp(`${ip!.replace(/\./g, "\\.")}\\t[0-9a-f]{12} net-${process.pid}`));
    expect(r.stdout).toContain("nameserver ");
  });

  test("two containers on one bridge reach each other by address", async () => {
    const server = mycrBackground([
      "run", "--rootfs", rootfs, "--", "sh", "-c",
      "mkdir -p /www && echo served-by-a > /www/index.html && ip -4 -o addr show eth0 && httpd -f -p 8080 -h /www",
    ]);
    try {
      await server.waitFor("inet ");
      const ip = /inet (10\.89\.\d+\.\d+)\//.exec(server.output())![1]!;
      const client = await mycr(["run", "--rootfs", rootfs, "--", "wget", "-q", "-O", "-", `http://${ip}:8080/`]);
      expect(client.stdout).toBe("served-by-a\n");
    } finally {
      server.proc.kill("SIGKILL");
      await server.result();
      await mycr(["gc"]);
    }
  });

  test("-p publishes a port: the host reaches the container's server", async () => {
    const rules = iptablesLines();
    const server = mycrBackground([
      "run", "--rootfs", rootfs, "-p", "18089:8080", "--", "sh", "-c",
      "mkdir -p /www && echo published > /www/index.html && echo up && httpd -f -p 8080 -h /www",
    ]);
    try {
      await server.waitFor("up");
      await Bun.sleep(200);
      const res = await fetch(`http://${hostAddress()}:18089/`);
      expect(await res.text()).toBe("published\n");
    } finally {
      server.proc.kill("SIGKILL");
      await server.result();
      await mycr(["gc"]); // mycr was killed: gc detaches what it could not
    }
    expect(iptablesLines()).toBe(rules); // DNAT, masquerade and firewall rules are gone again
  });

  test("outbound traffic leaves the container (to the host's address)", async () => {
    const srv = Bun.serve({ port: 0, hostname: "0.0.0.0", fetch: () => new Response("hello container\n") });
    try {
      const r = await mycr(["run", "--rootfs", rootfs, "--", "wget", "-q", "-O", "-", `http://${hostAddress()}:${srv.port}/`]);
      expect(r.stdout).toBe("hello container\n");
    } finally {
      srv.stop(true);
    }
  });

  test("nothing stays: no veth, no address lease, no rule after the container", async () => {
    const rules = iptablesLines();
    await mycr(["run", "--rootfs", rootfs, "-p", "18090:80", "--", "true"]);
    expect(leases("mycr")).toEqual([]);
    expect(iptablesLines()).toBe(rules);
  });

  test("--dns and --add-host", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "--dns", "10.1.2.3", "--add-host", "db.example:10.9.8.7", "--", "sh", "-c", "cat /etc/resolv.conf /etc/hosts"]);
    expect(r.stdout).toContain("nameserver 10.1.2.3");
    expect(r.stdout).toContain("10.9.8.7\tdb.example");
  });

  test("--network host shares the host's interfaces; none has loopback only", async () => {
    const host = await mycr(["run", "--rootfs", rootfs, "--network", "host", "--", "ls", "/sys/class/net"]);
    expect(host.stdout.split("\n")).toContain("mycr0");
    const none = await mycr(["run", "--rootfs", rootfs, "--network", "none", "--", "ls", "/sys/class/net"]);
    expect(none.stdout.trim()).toBe("lo");
  });
});

describe.if(havePlugins)("named networks", () => {
  const name = `testnet${process.pid % 1000}`;
  afterAll(async () => {
    await mycr(["network", "rm", name]);
  });

  test("create, ls, inspect, run on it, rm", async () => {
    const created = await mycr(["network", "create", "--subnet", "10.89.200.0/24", name]);
    expect(created.exitCode).toBe(0);
    expect((await mycr(["network", "ls"])).stdout).toMatch(new RegExp(`${name}\\s+10\\.89\\.200\\.0/24`));
    const inspect = JSON.parse((await mycr(["network", "inspect", name])).stdout);
    expect(inspect.plugins[0].type).toBe("bridge");
    const r = await mycr(["run", "--rootfs", rootfs, "--network", name, "--", "ip", "-4", "-o", "addr", "show", "eth0"]);
    expect(r.stdout).toContain("inet 10.89.200.");
    const dup = await mycr(["network", "create", "--subnet", "10.89.200.0/24", `${name}b`]);
    expect(dup.stderr).toBe(`mycr: --subnet 10.89.200.0/24 overlaps network "${name}"\n`);
    expect((await mycr(["network", "rm", name])).exitCode).toBe(0);
  });

  test("network rm: refused while a container is attached; then no bridge, IPAM state, rule or conflist stays", async () => {
    const net = `rmnet${process.pid % 1000}`;
    const web = `rmweb-${process.pid}`;
    expect((await mycr(["network", "create", "--subnet", `10.94.${20 + (process.pid % 200)}.0/24`, net])).exitCode).toBe(0);
    const bridge = JSON.parse((await mycr(["network", "inspect", net])).stdout).plugins[0].bridge as string;
    const run = await mycr(["run", "-d", "--name", web, "--rootfs", rootfs, "--network", net, "--", "sleep", "300"]);
    expect(run.exitCode).toBe(0);
    const id = run.stdout.trim();
    const mentions = () => Bun.spawnSync(["iptables-save"]).stdout.toString().split("\n").filter((l) => l.includes(bridge));
    try {
      expect(existsSync(`/sys/class/net/${bridge}`)).toBe(true);
      expect(leases(net)).toHaveLength(1);
      expect(mentions().length).toBeGreaterThan(0); // the loopback guard
      const refused = await mycr(["network", "rm", net]);
      expect(refused.stderr).toBe(`mycr: network "${net}" has active endpoints: ${web} (${id.slice(0, 12)}): stop or remove them first\n`);
      expect(refused.exitCode).toBe(125);
      expect((await mycr(["network", "ls"])).stdout).toContain(net);
      expect(existsSync(`/sys/class/net/${bridge}`)).toBe(true);
    } finally {
      expect((await mycr(["rm", "-f", web])).exitCode).toBe(0);
    }
    const removed = await mycr(["network", "rm", net]);
    expect(removed.stderr).toBe("");
    expect(removed.exitCode).toBe(0);
    expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
    expect(existsSync(`/proc/sys/net/ipv4/conf/${bridge}`)).toBe(false);
    expect(existsSync(join(TEST_ROOT, "cni", "ipam", net))).toBe(false);
    expect(mentions()).toEqual([]);
    expect((await mycr(["network", "ls"])).stdout).not.toContain(net);
    expect((await mycr(["network", "rm", net])).stderr).toBe(`mycr: network "${net}" does not exist (mycr network ls lists them)\n`);
  });

  test("bad input: unknown network, port in use, bad -p", async () => {
    const unknown = await mycr(["run", "--rootfs", rootfs, "--network", "nope", "true"]);
    expect(unknown.stderr).toBe('mycr: network "nope" does not exist (mycr network ls lists them)\n');
    expect(unknown.exitCode).toBe(125);
    const busy = Bun.serve({ port: 0, hostname: "0.0.0.0", fetch: () => new Response("") });
    try {
      const taken = await mycr(["run", "--rootfs", rootfs, "-p", `${busy.port}:80`, "true"]);
      expect(taken.stderr).toBe(`mycr: -p ${busy.port}:80: port ${busy.port} is already in use on the host\n`);
    } finally {
      busy.stop(true);
    }
    const bad = await mycr(["run", "--rootfs", rootfs, "-p", "80", "true"]);
    expect(bad.stderr).toBe("mycr: -p 80: use [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]\n");
  });
});
