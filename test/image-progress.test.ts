// What a pull shows while it works: one line per finished layer when stderr is a file or
// pipe, bars redrawn in place on a terminal (watched in tmux, downloads slowed by a proxy),
// nothing with -q; for `mycr pull` and for the pull of `mycr run --image`.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { mycr } from "./helpers/mycr";
import { TEST_ROOT, WORK } from "./helpers/env";
import { OciLayout } from "./helpers/oci-layout";
import { push, startRegistry, type TestRegistry } from "./helpers/registry";
import { startSlowProxy, type SlowProxy } from "./helpers/slow-proxy";
import { busyboxLayerEntries, makeTar } from "./helpers/tar";
import { Terminal } from "./helpers/tmux";

let reg: TestRegistry;
let proxy: SlowProxy;
let layoutDir: string;
/** The image straight from the registry, and the same image through the slow proxy. */
let direct: string;
let slow: string;
/** The manifest's layers: the 12 hex digits a pull shows, and the compressed size. */
let layers: { id: string; size: number }[];
let term: Terminal | null = null;

/** Bytes that gzip cannot shrink, so the layer stays as big on the wire as on disk. */
function noise(n: number): Uint8Array {
  const data = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(data.subarray(off, Math.min(n, off + 65536)));
  return data;
}

beforeAll(async () => {
  reg = await startRegistry();
  proxy = startSlowProxy(reg.host, 64 * 1024, 50); // ~1.3 MB/s: a 1.5 MB layer takes a second
  layoutDir = mkdtempSync(join(WORK, "progress-"));
  const layout = new OciLayout(layoutDir);
  layout.tag(
    layout.image({
      layers: [{ tar: makeTar(busyboxLayerEntries()) }, { tar: makeTar([{ path: "noise", data: noise(1_500_000) }]) }, { tar: makeTar([{ path: "small", data: "x" }]) }],
      config: { Cmd: ["echo", "from the image"] },
    }),
    "t",
  );
  push(layoutDir, "t", `${reg.host}/progress:1`);
  direct = `${reg.host}/progress:1`;
  slow = `${proxy.host}/progress:1`;
  const res = await fetch(`http://${reg.host}/v2/progress/manifests/1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
  const manifest = (await res.json()) as { layers: { digest: string; size: number }[] };
  layers = manifest.layers.map((l) => ({ id: l.digest.slice(7, 19), size: l.size }));
}, 120_000);

afterEach(async () => {
  term?.kill();
  term = null;
  await forget();
});

afterAll(async () => {
  proxy?.stop();
  await reg?.stop();
  if (layoutDir) rmSync(layoutDir, { recursive: true, force: true });
});

/** Both names removed: the next pull downloads every layer again; nothing is left in the store. */
async function forget(): Promise<void> {
  for (const ref of [direct, slow]) await mycr(["rmi", ref]);
  const left = (d: string) => (existsSync(join(TEST_ROOT, d)) ? readdirSync(join(TEST_ROOT, d)) : []);
  expect([left("layers"), left("blobs/sha256")]).toEqual([[], []]);
}

/** "1.50MB", "95B": docker's decimal sizes, checked against the real byte count. */
function sizeOf(text: string): number {
  const m = /^([\d.]+)(B|kB|MB|GB)$/.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as "B"];
}

function expectSize(text: string, bytes: number): void {
  expect(Math.abs(sizeOf(text) - bytes)).toBeLessThanOrEqual(bytes * 0.01);
}

async function ok(args: string[]) {
  const r = await mycr(args, { timeoutMs: 90_000 });
  if (r.exitCode !== 0) throw new Error(`mycr ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

describe("not a terminal", () => {
  test("one line per finished layer with its size and time, then the summary; stdout only the id", async () => {
    const r = await ok(["pull", direct]);
    expect(r.stdout).toMatch(/^[a-f0-9]{64}\n$/);
    expect(r.stderr).not.toContain("\x1b");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(layers.length + 1);
    // in the order they finished: find each layer's own line
    for (const l of layers) {
      const m = lines.map((line) => new RegExp(`^mycr: ${l.id}: pull complete \\((\\S+) in [\\d.]+s\\)$`).exec(line)).find((x) => x);
      expect(m).toBeTruthy();
      expectSize(m![1]!, l.size);
    }
    expect(lines.at(-1)).toMatch(new RegExp(`^mycr: pulled ${direct.replace(/[.]/g, "\\.")} \\(sha256:[a-f0-9]{64}\\)$`));

    const again = await ok(["pull", direct]);
    expect(again.stdout).toBe(r.stdout);
    expect(again.stderr.trimEnd().split("\n").slice(0, -1).sort()).toEqual(layers.map((l) => `mycr: ${l.id}: already exists`).sort());
  }, 120_000);

  test("-q: nothing on stderr; run --image shows the pull on stderr (nothing with -q), the program's output alone on stdout", async () => {
    const q = await ok(["pull", "-q", direct]);
    expect([q.stdout, q.stderr]).toEqual([expect.stringMatching(/^[a-f0-9]{64}\n$/), ""]);
    await forget();

    const run = await ok(["run", "--image", direct]);
    expect(run.stdout).toBe("from the image\n");
    expect(run.stderr.match(/^mycr: [a-f0-9]{12}: pull complete \(.*\)$/gm)).toHaveLength(layers.length);
    await forget();

    const quiet = await ok(["run", "-q", "--image", direct, "echo", "quiet"]);
    expect([quiet.stdout, quiet.stderr]).toEqual(["quiet\n", ""]);
    const already = await ok(["run", "--pull", "always", "--quiet", "--image", direct, "true"]);
    expect(already.stderr).toBe("");
    const misuse = await mycr(["run", "-q", "true"]);
    expect([misuse.exitCode, misuse.stderr]).toEqual([125, "mycr: --quiet needs --image\n"]);
  }, 120_000);

  test("run -d --image: the pull is shown by the command the user typed, not lost in the background", async () => {
    const r = await ok(["run", "-d", "--image", direct, "sleep", "30"]);
    try {
      expect(r.stdout).toMatch(/^[a-f0-9]{64}\n$/);
      expect(r.stderr.match(/^mycr: [a-f0-9]{12}: pull complete \(.*\)$/gm)).toHaveLength(layers.length);
      expect((await ok(["ps", "-q"])).stdout).toContain(r.stdout.trim().slice(0, 12));
    } finally {
      await mycr(["rm", "-f", r.stdout.trim()]);
    }
  }, 120_000);

  test("a download that breaks off midway is retried, and the user is told", async () => {
    proxy.breakNextAfter = 200_000;
    const r = await ok(["pull", slow]);
    const retried = r.stderr.match(/^mycr: ([a-f0-9]{12}): retrying \((.+)\)$/m);
    expect(retried).toBeTruthy();
    expect(retried![2]).not.toContain("verbose");
    expect(layers.map((l) => l.id)).toContain(retried![1]!);
    expect(r.stderr).toContain(`mycr: ${retried![1]}: pull complete (`);
    expect(proxy.breakNextAfter).toBeUndefined();
  }, 120_000);
});

/** Starts a terminal with the given size and types `mycr pull slow; echo EXIT=$?` into it. */
async function pullInTerminal(cols: number, rows: number, before = ""): Promise<Terminal> {
  term = Terminal.start(cols, rows);
  await term.waitFor(/^outer\$/m);
  term.line(`${before}"$MYCR" pull ${slow}; echo EXIT=$?`);
  return term;
}

const DOWNLOADING = /^([a-f0-9]{12}): Downloading \[=*>? *\]\s+([\d.]+[kMG]?B)\/([\d.]+[kMG]?B)\s+([\d.]+[kMG]?B)\/s$/m;

describe("on a terminal", () => {
  test("bars with sizes and speed while downloading, a retry said above them; at the end each layer's Pull complete with its size, nothing else left over", async () => {
    proxy.breakNextAfter = 300_000;
    const t = await pullInTerminal(100, 30);
    const during = await t.waitFor(DOWNLOADING, 30_000);
    const [, id, got, total] = DOWNLOADING.exec(during)!;
    const layer = layers.find((l) => l.id === id)!;
    expectSize(total!, layer.size);
    expect(sizeOf(got!)).toBeLessThan(layer.size);
    expect(t.cursorVisible()).toBe(false); // hidden while the bars move

    const screen = await t.waitFor(/^EXIT=\d+$/m, 60_000);
    expect(screen).toContain("EXIT=0");
    const lines = screen.split("\n");
    const command = lines.findIndex((l) => l.includes("pull 127.0.0.1"));
    // the retry's message between the command and the bars, which were drawn again below it
    expect(lines[command + 1]).toMatch(/^mycr: [a-f0-9]{12}: retrying \(ECONNRESET: [^)]*\)$/);
    const first = command + 2;
    // the layers in the manifest's order, one line each
    for (const [i, l] of layers.entries()) {
      const m = new RegExp(`^${l.id}: Pull complete  (\\S+) in [\\d.]+s$`).exec(lines[first + i]!);
      expect(m).toBeTruthy();
      expectSize(m![1]!, l.size);
    }
    expect(lines[first + layers.length]).toStartWith(`mycr: pulled ${slow}`);
    expect(screen).not.toMatch(/Downloading|Extracting|Waiting|\[\?25|\x1b/);
    expect(t.cursorVisible()).toBe(true);

    // a second pull: every layer is there already
    t.line("clear");
    await t.waitFor(/^outer\$\s*$/);
    t.line(`"$MYCR" pull ${slow}; echo EXIT=$?`);
    const again = await t.waitFor(/^EXIT=0$/m, 30_000);
    for (const l of layers) expect(again).toMatch(new RegExp(`^${l.id}: Already exists$`, "m"));
  }, 120_000);

  test("a narrow terminal: each layer's line is cut to the width, never wrapped", async () => {
    const cols = 40;
    const t = await pullInTerminal(cols, 30);
    await t.waitFor(/Downloading/, 30_000);
    const screens: string[] = [];
    while (!/^EXIT=\d+$/m.test(screens.at(-1) ?? "")) {
      screens.push(t.screen());
      await Bun.sleep(50);
    }
    expect(screens.at(-1)).toMatch(/^EXIT=0$/m);
    for (const s of screens) {
      const lines = s.split("\n");
      const at = lines.findIndex((l) => l.startsWith(layers[0]!.id));
      // the layers' lines follow each other: nothing wrapped onto a line of its own
      expect(lines.slice(at, at + layers.length).map((l) => l.slice(0, 12))).toEqual(layers.map((l) => l.id));
      for (const l of lines.slice(at, at + layers.length)) expect(l.length).toBeLessThan(cols);
    }
    for (const l of layers) expect(screens.at(-1)).toMatch(new RegExp(`^${l.id}: Pull complete  [\\d.]+[kMG]?B`, "m"));
  }, 120_000);

  test("fewer rows than layers need: plain lines instead of bars", async () => {
    const t = await pullInTerminal(100, layers.length + 1);
    await t.waitFor(/^EXIT=\d+$/m, 60_000);
    const all = t.screen(true);
    expect(all).toContain("EXIT=0");
    for (const l of layers) expect(all).toMatch(new RegExp(`^mycr: ${l.id}: pull complete \\(`, "m"));
    expect(all).not.toMatch(/Downloading|Waiting/);
    expect(t.cursorVisible()).toBe(true);
  }, 120_000);

  test("Ctrl-C during a pull: mycr dies of SIGINT with the cursor shown again; the next pull works", async () => {
    // the shell's trap lets the line go on to print the status of the interrupted pull
    const t = await pullInTerminal(100, 30, "trap 'echo TRAPPED' INT; ");
    await t.waitFor(DOWNLOADING, 30_000);
    t.key("C-c");
    const screen = await t.waitFor(/^EXIT=\d+$/m, 10_000);
    expect(screen).toMatch(/^EXIT=130$/m);
    expect(t.cursorVisible()).toBe(true);
    expect(screen).not.toMatch(/\[\?25|\x1b/);
    const r = await ok(["pull", slow]);
    expect(r.stderr).toContain("pulled");
  }, 120_000);
});
