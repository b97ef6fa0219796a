// Issue 13, bad input: a host name with '/', a newline or 300 characters is one line
// naming the flag (or the config field), exit 125, before anything exists.
import { beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, TEST_STATE, WORK, mycrEnv } from "./helpers/env";
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
  // a name per round: importing again under one name would leave the first image untagged
  const names = [1, 2].map((round) => `localhost/mycr-test/devices-${process.pid}:${round}`);
  const name = names[0]!;
  try {
    for (const round of names) {
      const r = await mycr(["import", tar, round]);
      const warnings = r.stderr.split("\n").filter((l) => !/^mycr: [0-9a-f]{12}: already exists$/.test(l)); // the second round's layer is in the store
      expect(warnings.join("\n")).toBe(
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
    for (const n of names) await mycr(["rmi", n]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs `mycr WORDS...` through bash, so that words can be bytes: $'\xff' in `script`. */
async function mycrBytes(script: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const proc = Bun.spawn(["bash", "-c", script], { env: { ...mycrEnv(env), MYCR }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { stdout, stderr, exitCode: await proc.exited };
}

/** bash's $'...' spelling of bytes, and the hex od prints for them. */
const BYTE_WORDS: { bash: string; hex: string }[] = [
  [0xff, 0xfe],
  [0x61, 0xc3], // a truncated 2-byte sequence
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded: not UTF-8
  [0xc0, 0xaf], // an overlong '/'
  [0xc3, 0xa9, 0x80], // valid é, then a stray continuation byte
  [0xef, 0xbf, 0xbd], // a real U+FFFD: must stay exactly itself too
  [0xf0, 0x9f, 0x98, 0x80, 0xf8], // an emoji, then a byte no UTF-8 has
].map((bytes) => ({
  bash: `$'${bytes.map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}'`,
  hex: bytes.map((b) => b.toString(16).padStart(2, "0")).join(" "),
}));

const od = (out: string) => out.trim().split(/\s+/).join(" ");

test("byte smuggling: command words that are not UTF-8 reach the container's execve byte for byte", async () => {
  for (const w of BYTE_WORDS) {
    const r = await mycrBytes(`"$MYCR" run --network none --rootfs ${rootfs} -- sh -c 'printf %s "$1" | od -An -tx1' sh ${w.bash}`);
    expect({ word: w.bash, out: od(r.stdout), err: r.stderr }).toEqual({ word: w.bash, out: w.hex, err: "" });
    // the program's own name too, by path and found through PATH by its bytes
    const bin = join(WORK, `byte-names-${process.pid}`);
    mkdirSync(bin, { recursive: true });
    const name = Buffer.from(w.hex.split(" ").map((h) => parseInt(h, 16)));
    writeFileSync(Buffer.concat([Buffer.from(`${bin}/`), name]), "#!/bin/sh\necho ran\n", { mode: 0o755 });
    try {
      const r2 = await mycrBytes(`"$MYCR" run --network none --rootfs ${rootfs} -v ${bin}:/opt/b:ro -e PATH=/opt/b:/bin -- sh -c '/opt/b/"$1"; "$1"' sh ${w.bash}`);
      const r3 = await mycrBytes(`"$MYCR" run --network none --rootfs ${rootfs} -v ${bin}:/opt/b:ro -e PATH=/opt/b:/bin -- ${w.bash}`);
      expect({ word: w.bash, inShell: r2.stdout, direct: r3.stdout, err: r3.stderr }).toEqual({ word: w.bash, inShell: "ran\nran\n", direct: "ran\n", err: "" });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  }
});

test("byte smuggling: -e KEY=VALUE, -e KEY and --env-file values that are not UTF-8 arrive exactly", async () => {
  const dir = join(WORK, `env-bytes-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    for (const w of BYTE_WORDS) {
      const show = `sh -c 'for v in A B C; do eval "printf %s \\"\\$$v\\"" | od -An -tx1; done'`;
      writeFileSync(join(dir, "env"), Buffer.concat([Buffer.from("C="), Buffer.from(w.hex.split(" ").map((h) => parseInt(h, 16))), Buffer.from("\n")]));
      const r = await mycrBytes(`B=${w.bash} "$MYCR" run --network none --rootfs ${rootfs} -e A=${w.bash} -e B --env-file ${join(dir, "env")} -- ${show}`);
      expect({ word: w.bash, lines: r.stdout.trim().split("\n").map(od), err: r.stderr }).toEqual({ word: w.bash, lines: [w.hex, w.hex, w.hex], err: "" });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("byte smuggling: a detached container and exec get the bytes too", async () => {
  const w = BYTE_WORDS[0]!;
  const started = await mycrBytes(`B=${w.bash} "$MYCR" run -d --network none --rootfs ${rootfs} -e A=${w.bash} -e B -- sleep 60`);
  expect(started.exitCode).toBe(0);
  const id = started.stdout.trim();
  try {
    for (const w2 of BYTE_WORDS) {
      const r = await mycrBytes(`"$MYCR" exec ${id} sh -c 'printf %s "$A" | od -An -tx1; printf %s "$B" | od -An -tx1; printf %s "$1" | od -An -tx1' sh ${w2.bash}`);
      expect(r.stdout.trim().split("\n").map(od)).toEqual([w.hex, w.hex, w2.hex]);
    }
  } finally {
    await mycrBytes(`"$MYCR" rm -f ${id}`);
  }
});

test("byte smuggling: bytes that are not UTF-8 where mycr reads the value are refused, never replaced", async () => {
  const before = [entries(TEST_STATE), entries(join(TEST_ROOT, "containers"))];
  for (const [flags, what] of [
    [`--workdir $'/w\\xff'`, "--workdir"],
    [`--hostname $'h\\xfe'`, "--hostname"],
    [`--name $'n\\xff'`, "--name"],
    [`-v $'/tmp\\xff:/x'`, "--volume"],
  ] as const) {
    const r = await mycrBytes(`"$MYCR" run --network none --rootfs ${rootfs} ${flags} -- true`);
    expect(r.stderr).toMatch(new RegExp(`^mycr: ${what}: not valid UTF-8 \\(byte 0x(ff|fe)\\); give it in UTF-8 \\(only the container's command and -e values may hold other bytes\\)\\n$`));
    expect(r.exitCode).toBe(125);
  }
  const root = await mycrBytes(`"$MYCR" --root $'/run/x\\xff' list`);
  expect(root.stderr).toStartWith("mycr: --root: not valid UTF-8 (byte 0xff)");
  expect(root.exitCode).toBe(125);
  expect([entries(TEST_STATE), entries(join(TEST_ROOT, "containers"))]).toEqual(before);
});
