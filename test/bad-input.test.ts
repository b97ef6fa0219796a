// Issue 13, bad input: a host name with '/', a newline or 300 characters is one line
// naming the flag (or the config field), exit 125, before anything exists.
import { beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, TEST_STATE, WORK } from "./helpers/env";
import { makeTar } from "./helpers/tar";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";
import { busyboxBinary, busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

const RULE = "use letters, digits and '-' in labels separated by dots (RFC 1123), at most 64 bytes";
const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

const BAD_HOSTNAMES: [string, string][] = [
  ["a/b\nc", 'the label "a/b\\nc" is not letters, digits and inner \'-\''],
  ["h".repeat(300), "300 bytes long, the kernel allows 64"],
  ["h".repeat(65), "65 bytes long, the kernel allows 64"],
  ["", "empty"],
  ["-box", 'the label "-box" is not letters, digits and inner \'-\''],
  ["box-", 'the label "box-" is not letters, digits and inner \'-\''],
  ["my_box", 'the label "my_box" is not letters, digits and inner \'-\''],
  ["a..b", "an empty label (two dots, or a dot at an end)"],
  ["box.", "an empty label (two dots, or a dot at an end)"],
  ["bad name", 'the label "bad name" is not letters, digits and inner \'-\''],
  ["a".repeat(64) + ".x", "66 bytes long, the kernel allows 64"],
  ["h".repeat(64), `the label "${"h".repeat(64)}" is 64 characters, at most 63`],
  ["é", 'the label "é" is not letters, digits and inner \'-\''],
];

test("hostname injection: --hostname with '/', a newline, 300 characters... is refused early, naming the flag", async () => {
  const before = [entries(TEST_STATE), entries(join(TEST_ROOT, "containers"))];
  for (const [name, problem] of BAD_HOSTNAMES) {
    for (const detach of [[], ["-d"]]) {
      const r = await mycr(["run", ...detach, "--rootfs", rootfs, "--hostname", name, "--", "true"]);
      expect({ name, stderr: r.stderr, code: r.exitCode, out: r.stdout }).toEqual({
        name,
        stderr: `mycr: --hostname ${JSON.stringify(name)}: ${problem}; ${RULE}\n`,
        code: 125,
        out: "",
      });
    }
  }
  // nothing created (test/run.ts checks mounts, cgroups and processes after the file)
  expect([entries(TEST_STATE), entries(join(TEST_ROOT, "containers"))]).toEqual(before);
});

test("host names docker takes still work: dots, digits, 63-character labels, 64 bytes", async () => {
  for (const name of ["box", "web.example.com", "h".repeat(63), `${"a".repeat(31)}.${"b".repeat(32)}`, "a-1.b-2", "1abc", "UPPER"]) {
    const r = await mycr(["run", "--network", "none", "--rootfs", rootfs, "--hostname", name, "--", "sh", "-c", "hostname; echo $HOSTNAME"]);
    expect({ name, out: r.stdout, err: r.stderr }).toEqual({ name, out: `${name}\n${name}\n`, err: "" });
  }
});

test("hostname injection through config.json: the hostname field is refused by name", async () => {
  const before = entries(TEST_STATE);
  for (const [name, problem] of BAD_HOSTNAMES.filter(([n]) => n !== "")) {
    const bundle = await makeBundle(["true"], (s) => {
      s.hostname = name;
    });
    const r = await mycr(["run", "--bundle", bundle, uniqueId("host")]);
    expect({ name, stderr: r.stderr, code: r.exitCode }).toEqual({
      name,
      stderr: `mycr: config.json: hostname: ${JSON.stringify(name)}: ${problem}; ${RULE}\n`,
      code: 125,
    });
  }
  expect(entries(TEST_STATE)).toEqual(before);
});

test("a root filesystem tar with device nodes: import says which entries it left out", async () => {
  const dir = join(WORK, `import-devices-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const tar = join(dir, "root.tar");
  writeFileSync(
    tar,
    makeTar([
      { path: "bin/", type: "dir" },
      { path: "bin/busybox", data: readFileSync(busyboxBinary()), mode: 0o755 },
      { path: "dev/", type: "dir" },
      { path: "dev/sda", type: "block", major: 8, minor: 0 },
      { path: "dev/mem", type: "char", major: 1, minor: 1 },
      { path: "etc/hostname", data: "kept\n" },
    ]),
  );
  const name = `localhost/mycr-test/devices-${process.pid}:1`;
  try {
    for (let round = 0; round < 2; round++) {
      const r = await mycr(["import", tar, name]);
      expect(r.stderr).toBe(
        `mycr: warning: import ${tar}: left out device node dev/sda (images carry no device nodes)\n` +
          `mycr: warning: import ${tar}: left out device node dev/mem (images carry no device nodes)\n`,
      );
      expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      expect(r.exitCode).toBe(0);
    }
    // The rest of the tar is the image; the device nodes are not in it.
    const ls = await mycr(["run", "--network", "none", "--image", name, "--", "/bin/busybox", "sh", "-c", "/bin/busybox cat /etc/hostname; /bin/busybox ls /dev/sda /dev/mem 2>&1 | /bin/busybox wc -l"]);
    expect(ls.stderr).toBe("");
    expect(ls.stdout.split("\n")[0]).toBe("kept");
  } finally {
    await mycr(["rmi", name]);
    rmSync(dir, { recursive: true, force: true });
  }
});
