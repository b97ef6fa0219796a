// Issue 13, bad input: a host name with '/', a newline or 300 characters is one line
// naming the flag (or the config field), exit 125, before anything exists.
import { beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, TEST_STATE } from "./helpers/env";
import { foreignNamespaceProcesses } from "./helpers/leaks";
import { ownLeaks } from "./helpers/own-leaks";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
let baseline: Set<string>;
beforeAll(() => {
  rootfs = busyboxRootfs();
  baseline = foreignNamespaceProcesses();
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
  expect([entries(TEST_STATE), entries(join(TEST_ROOT, "containers"))]).toEqual(before);
  expect(ownLeaks(baseline, new Set())).toEqual([]);
});

test("host names docker takes still work: dots, digits, 63-character labels, 64 bytes", async () => {
  for (const name of ["box", "web.example.com", "h".repeat(63), `${"a".repeat(31)}.${"b".repeat(32)}`, "a-1.b-2", "1abc", "UPPER"]) {
    const r = await mycr(["run", "--network", "none", "--rootfs", rootfs, "--hostname", name, "--", "sh", "-c", "hostname; echo $HOSTNAME"]);
    expect({ name, out: r.stdout, err: r.stderr }).toEqual({ name, out: `${name}\n${name}\n`, err: "" });
  }
});

test("hostname injection through config.json: the hostname field is refused by name", async () => {
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
  expect(ownLeaks(baseline, new Set())).toEqual([]);
});
