// mycr attach: a running detached container's output reaches attached clients as it
// comes (stdout and stderr apart), -i input reaches it, its exit code is attach's, the
// detach keys leave it running, and a killed client harms neither it nor other clients.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { Terminal } from "./helpers/tmux";

let rootfs: string;
let term: Terminal | null = null;
const made: string[] = [];
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(async () => {
  if (made.length > 0) await mycr(["rm", "-f", ...made]);
});

let counter = 0;
async function runD(args: string[]): Promise<string> {
  const name = `attach-${process.pid}-${++counter}`;
  const r = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, ...args]);
  if (r.exitCode !== 0) throw new Error(`run -d failed (${r.exitCode}): ${r.stderr}`);
  made.push(name);
  return name;
}

async function state(name: string): Promise<string> {
  return (await mycr(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim();
}

test("output that comes after attaching reaches the client, stdout and stderr apart, and the exit code is attach's", async () => {
  const name = await runD(["sh", "-c", "read x < /dev/null; sleep 1; echo out-line; echo err-line >&2; sleep 0.5; exit 7"]);
  const r = await mycr(["attach", name]);
  expect(r.stdout).toBe("out-line\n");
  expect(r.stderr).toBe("err-line\n");
  expect(r.exitCode).toBe(7);
});

test("-i: what the client sends reaches the container's stdin (cat echoes it)", async () => {
  const name = await runD(["-i", "cat"]);
  const attached = mycr(["attach", name], { stdin: "hello-from-attach\n" });
  const deadline = Date.now() + 10_000;
  while (!(await mycr(["logs", name])).stdout.includes("hello-from-attach") && Date.now() < deadline) await Bun.sleep(100);
  expect(await state(name)).toBe("running");
  await mycr(["kill", "-s", "KILL", name]);
  const r = await attached;
  expect(r.stdout).toBe("hello-from-attach\n");
  expect(r.exitCode).toBe(137);
});

test("the detach keys (ctrl-p ctrl-q) leave a -dit container running; a new attach finds it", async () => {
  const name = await runD(["-it", "sh"]);
  term = Terminal.start();
  await term.waitFor(/^outer\$/m);
  term.line(`"$MYCR" attach ${name}; echo "ATTACH-RC $?"`);
  term.line("echo marker-$((6*7))");
  await term.waitFor(/marker-42/);
  term.key("C-p");
  term.key("C-q");
  await term.waitFor(/ATTACH-RC 0$/m);
  expect(await state(name)).toBe("running");
  term.line(`"$MYCR" attach ${name}; echo "ATTACH-RC $?"`);
  term.line("exit 5");
  await term.waitFor(/ATTACH-RC 5$/m);
});

test("a killed attach client leaves the container and the other clients fine", async () => {
  const name = await runD(["sh", "-c", "i=0; while [ $i -lt 30 ]; do echo tick-$i; i=$((i+1)); sleep 0.1; done; exit 3"]);
  const doomed = mycrBackground(["attach", name]);
  const other = mycrBackground(["attach", name]);
  await doomed.waitFor("tick-");
  doomed.proc.kill("SIGKILL");
  const r = await other.result();
  expect(r.stdout).toContain("tick-29\n");
  expect(r.exitCode).toBe(3);
});

test("attach to a container that is not running says so", async () => {
  const name = await runD(["true"]);
  await mycr(["wait", name]);
  const r = await mycr(["attach", name]);
  expect(r.exitCode).toBe(125);
  expect(r.stderr).toContain("it is exited");
});
