// mycr's D-Bus client (src/cgroups/systemd/dbus-*.ts) against a real bus: a private
// dbus-daemon started for the test (the reference implementation validates every message
// it receives, so a marshalling mistake is an error or a dropped connection here), and
// the wire format of the signatures systemd's StartTransientUnit takes, written and read back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { hostUid, userBusSocket } from "../src/cgroups/systemd/bus-address";
import { DBusCallError, DBusConnection } from "../src/cgroups/systemd/dbus-connection";
import { Reader, Variant, Writer } from "../src/cgroups/systemd/dbus-marshal";
import { listToMask, quotaPerSecUSec } from "../src/cgroups/systemd/properties";
import { expandSlice, scopeName } from "../src/cgroups/systemd/unit-name";
import { REPO, WORK } from "./helpers/env";

const daemon = Bun.which("dbus-daemon");
let dir = "";
let bus: Subprocess | null = null;
let socket = "";

beforeAll(async () => {
  if (!daemon) return;
  dir = mkdtempSync(join(WORK, "dbus-"));
  socket = join(dir, "bus.sock");
  bus = Bun.spawn([daemon, "--session", "--nofork", `--address=unix:path=${socket}`], { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 200 && !(await Bun.file(socket).exists()); i++) await Bun.sleep(10);
});

afterAll(async () => {
  bus?.kill();
  await bus?.exited;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DBUS = { destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus" };

test.if(daemon !== null)("authenticates, says Hello and gets replies matched to calls", async () => {
  const c = await DBusConnection.open(socket);
  try {
    const [names, id] = await Promise.all([c.call({ ...DBUS, member: "ListNames" }), c.call({ ...DBUS, member: "GetId" })]);
    expect(names[0]).toContain("org.freedesktop.DBus");
    expect((names[0] as string[]).some((n) => n.startsWith(":1."))).toBe(true); // our unique name
    expect(id[0]).toMatch(/^[0-9a-f]{32}$/);
    // a{ss} through the daemon's own validation
    expect(await c.call({ ...DBUS, member: "UpdateActivationEnvironment", signature: "a{ss}", body: [[["MYCR_TEST", "1"]]] })).toEqual([]);
  } finally {
    c.close();
  }
});

test.if(daemon !== null)("an error reply is a DBusCallError with the error's name and message", async () => {
  const c = await DBusConnection.open(socket);
  try {
    const e = await c.call({ ...DBUS, member: "GetNameOwner", signature: "s", body: ["no.such.name"] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DBusCallError);
    expect((e as DBusCallError).errorName).toBe("org.freedesktop.DBus.Error.NameHasNoOwner");
    expect((e as Error).message).toContain("no.such.name");
  } finally {
    c.close();
  }
});

test("a missing bus socket is one clear error", async () => {
  const e = await DBusConnection.open(join(WORK, "no-such-bus.sock")).catch((x: unknown) => x as Error);
  expect((e as Error).message).toMatch(/^cannot connect to the D-Bus socket .*no-such-bus\.sock: ENOENT$/);
});

test("the user's bus: DBUS_SESSION_BUS_ADDRESS's unix:path=, else XDG_RUNTIME_DIR/bus, else none", () => {
  expect(userBusSocket({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus", XDG_RUNTIME_DIR: "/x" })).toBe("/run/user/1000/bus");
  // several addresses: the first unix path one; escaped bytes decoded; guid= ignored
  expect(userBusSocket({ DBUS_SESSION_BUS_ADDRESS: "tcp:host=h,port=1;unix:guid=ab,path=/tmp/a%20b" })).toBe("/tmp/a b");
  expect(userBusSocket({ DBUS_SESSION_BUS_ADDRESS: "unix:abstract=/tmp/dbus-x", XDG_RUNTIME_DIR: "/run/user/7" })).toBe("/run/user/7/bus");
  expect(userBusSocket({})).toBeNull();
});

test("EXTERNAL's uid is the host's: a rootless mycr's uid 0 is the user's", () => {
  expect(hostUid(0, "         0       1000          1\n         1     100000      65536\n")).toBe(1000);
  expect(hostUid(5, "         0       1000          1\n         1     100000      65536\n")).toBe(100004);
  expect(hostUid(0, "         0          0 4294967295\n")).toBe(0);
});

// A rootless mycr is uid 0 of its user namespace; the user's bus reads the socket's peer
// credentials in its own (the host's) namespace and would reject an EXTERNAL claiming 0.
test.if(daemon !== null && Bun.which("setpriv") !== null && Bun.which("unshare") !== null)(
  "root of a user namespace authenticates to a user's bus as the host uid it maps to",
  async () => {
    const nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"];
    const tmp = mkdtempSync(join(tmpdir(), "mycr-userbus-"));
    chmodSync(tmp, 0o777);
    const userBus = Bun.spawn([...nobody, daemon!, "--session", "--nofork", `--address=unix:path=${tmp}/bus`], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 200 && !existsSync(`${tmp}/bus`); i++) await Bun.sleep(10);
      const client = join(tmp, "client.ts");
      writeFileSync(
        client,
        `import { DBusConnection } from ${JSON.stringify(join(REPO, "src/cgroups/systemd/dbus-connection"))};\n` +
          `const c = await DBusConnection.open(${JSON.stringify(`${tmp}/bus`)});\n` +
          `console.log("uid " + process.getuid() + " connected");\nc.close();\n`,
        { mode: 0o644 },
      );
      const r = Bun.spawnSync([...nobody, "env", `HOME=${tmp}`, "unshare", "--map-root-user", process.execPath, client], { cwd: tmp, stdout: "pipe", stderr: "pipe" });
      expect(r.stderr.toString()).toBe("");
      expect(r.stdout.toString().trim()).toBe("uid 0 connected");
    } finally {
      userBus.kill();
      await userBus.exited;
      rmSync(tmp, { recursive: true, force: true });
    }
  },
  30_000,
);

test("StartTransientUnit's arguments are written and read back as they were", () => {
  const props = [
    ["Description", new Variant("s", "x")],
    ["Delegate", new Variant("b", true)],
    ["PIDs", new Variant("au", [1234, 5])],
    ["MemoryMax", new Variant("t", 0xffff_ffff_ffff_ffffn)],
    ["AllowedCPUs", new Variant("ay", [0b101])],
  ];
  const w = new Writer();
  for (const [t, v] of [["s", "mycr-a.scope"], ["s", "replace"], ["a(sv)", props], ["a(sa(sv))", []]] as const) w.write(t, v as never);
  const back = new Reader(w.bytes()).readAll("ssa(sv)a(sa(sv))");
  expect(back).toEqual(["mycr-a.scope", "replace", props, []]);
  // The uint64 is little-endian and 8-aligned: its bytes are where the spec says.
  expect(w.bytes().length % 4).toBe(0);
});

test("runc's cgroupsPath reading: slice:prefix:name, nested slices, defaults", () => {
  expect(scopeName("abc", "system.slice:mycr:abc")).toEqual({ slice: "system.slice", unit: "mycr-abc.scope" });
  expect(scopeName("abc", ":libpod:abc")).toEqual({ slice: "system.slice", unit: "libpod-abc.scope" });
  expect(scopeName("abc", "machine.slice::abc")).toEqual({ slice: "machine.slice", unit: "abc.scope" });
  expect(scopeName("abc", undefined)).toEqual({ slice: "system.slice", unit: "mycr-abc.scope" });
  expect(expandSlice("a-b-c.slice")).toBe("/a.slice/a-b.slice/a-b-c.slice");
  expect(expandSlice("-.slice")).toBe("/");
  expect(() => scopeName("abc", "/a/b")).toThrow('must be "slice:prefix:name"');
  expect(() => scopeName("abc", "a--b.slice:p:n")).toThrow("not a valid slice name");
  expect(() => scopeName("abc", "system:p:n")).toThrow("is not a slice");
});

test("CPU lists become systemd's bitmasks; the quota is rounded up to 10 ms as systemd does", () => {
  expect(listToMask("0-2,9", "cpus")).toEqual([0b111, 0b10]);
  expect(() => listToMask("2-1", "cpus")).toThrow("bad range");
  expect(quotaPerSecUSec(50000, 100000)).toBe(500000n);
  expect(quotaPerSecUSec(1234, 100000)).toBe(20000n);
});
