// Issue 19: containers on the same user network reach each other by name (and host
// name), as docker's embedded DNS gives; on the default network by address only, as in
// docker. mycr keeps each container's /etc/hosts up to date as peers come and go
// (src/engine/network-hosts.ts): these tests join, leave, rename and race joins, and
// check what a container's resolver (busybox's ping, reading /etc/hosts) finds.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

setDefaultTimeout(120_000);

const havePlugins = ["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"].some((p) => Bun.file(p).size > 0);
const net = `dns${process.pid % 10000}`;
const subnet = `10.95.${process.pid % 200}.0/24`;
let rootfs: string;
const names: string[] = [];

beforeAll(async () => {
  rootfs = busyboxRootfs();
  if (havePlugins) expect((await mycr(["network", "create", "--subnet", subnet, net])).exitCode).toBe(0);
});
afterAll(async () => {
  if (names.length > 0) await mycr(["rm", "-f", ...names]);
  if (havePlugins) await mycr(["network", "rm", net]);
});

async function runD(name: string, network = net, extra: string[] = []): Promise<string> {
  const r = await mycr(["run", "-d", "--name", name, "--network", network, ...extra, "--rootfs", rootfs, "sleep", "600"]);
  if (r.exitCode !== 0) throw new Error(`run -d ${name}: ${r.exitCode} ${r.stderr}`);
  names.push(name);
  return r.stdout.trim();
}

/** The address `name` resolves to inside `from` (busybox ping prints it), or null. */
async function resolve(from: string, name: string): Promise<string | null> {
  const r = await mycr(["exec", from, "ping", "-c", "1", "-W", "1", name]);
  return /^PING \S+ \((\d+\.\d+\.\d+\.\d+)\)/m.exec(r.stdout)?.[1] ?? null;
}

const addressOf = async (name: string) => (await mycr(["exec", name, "ip", "-4", "-o", "addr", "show", "eth0"])).stdout.match(/inet (\d+\.\d+\.\d+\.\d+)\//)?.[1];

describe.if(havePlugins)("names on user networks", () => {
  test("peers resolve each other by name and host name; one that joins later is seen; one that leaves is gone", async () => {
    const a = `dns-a-${process.pid}`;
    const b = `dns-b-${process.pid}`;
    const c = `dns-c-${process.pid}`;
    const idB = await runD(a).then(() => runD(b, net, ["--hostname", "bee"]));
    const [ipA, ipB] = [await addressOf(a), await addressOf(b)];
    expect(await resolve(a, b)).toBe(ipB!);
    expect(await resolve(a, "bee")).toBe(ipB!);
    expect(await resolve(b, a)).toBe(ipA!);
    expect(idB).toMatch(/^[0-9a-f]{64}$/);
    // a latecomer: the first container's /etc/hosts (a bind mount) learns it in place
    await runD(c);
    const ipC = await addressOf(c);
    expect(await resolve(a, c)).toBe(ipC!);
    expect(await resolve(c, a)).toBe(ipA!);
    // rename: peers resolve the new name, not the old one
    expect((await mycr(["rename", c, `${c}-new`])).exitCode).toBe(0);
    names.push(`${c}-new`);
    expect(await resolve(a, `${c}-new`)).toBe(ipC!);
    expect(await resolve(a, c)).toBeNull();
    // leaving: removed, its name resolves no more
    expect((await mycr(["rm", "-f", b])).exitCode).toBe(0);
    expect(await resolve(a, b)).toBeNull();
    expect(await resolve(`${c}-new`, b)).toBeNull();
  });

  test("a foreground run on the network resolves the detached ones, and its name goes when it ends", async () => {
    const a = `dns-fg-a-${process.pid}`;
    await runD(a);
    const fg = `dns-fg-${process.pid}`;
    const r = await mycr(["run", "--name", fg, "--network", net, "--rootfs", rootfs, "sh", "-c", `ping -c1 -W1 ${a} >/dev/null && echo found; sleep 3`], { leavesContainer: true });
    expect(r).toMatchObject({ exitCode: 0, stdout: "found\n" });
    expect(await resolve(a, fg)).toBeNull(); // gone with it
  });

  test("containers started at the same time all see each other (joins race)", async () => {
    const many = [1, 2, 3, 4].map((i) => `dns-race-${i}-${process.pid}`);
    await Promise.all(many.map((n) => runD(n)));
    for (const from of many) {
      const hosts = (await mycr(["exec", from, "cat", "/etc/hosts"])).stdout;
      for (const other of many) expect(hosts, `${from}'s hosts lacks ${other}`).toContain(other);
    }
  });

  test("a container's own edits to /etc/hosts reach no peer and are replaced at the next change (hosts poisoning attack)", async () => {
    const victim = `dns-victim-${process.pid}`;
    const evil = `dns-evil-${process.pid}`;
    await runD(victim);
    await runD(evil);
    const ipVictim = await addressOf(victim);
    for (let i = 0; i < 3; i++) {
      // the attacker rewrites its own hosts to claim the victim's name, and tries to reach the host's files through it
      await mycr(["exec", evil, "sh", "-c", `echo "6.6.6.6 ${victim}" > /etc/hosts; rm -f /etc/hosts 2>/dev/null; ln -sf /etc/shadow /etc/hosts 2>/dev/null; true`]);
      const late = `dns-late-${i}-${process.pid}`;
      await runD(late);
      expect(await resolve(late, victim)).toBe(ipVictim!);
      expect(await resolve(evil, victim)).toBe(ipVictim!); // its own file was rewritten by mycr
      expect((await mycr(["rm", "-f", late])).exitCode).toBe(0);
    }
    expect(await Bun.file("/etc/shadow").text()).not.toContain("containers on network");
  });

  test("the default network: by address only, as docker", async () => {
    const a = `dns-default-a-${process.pid}`;
    const b = `dns-default-b-${process.pid}`;
    await runD(a, "bridge");
    await runD(b, "bridge");
    expect(await resolve(a, b)).toBeNull();
    expect(await addressOf(b)).toMatch(/^10\.89\./);
  });
});
