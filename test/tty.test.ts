// `mycr run sh` in a real terminal feels like `docker run -it`: a prompt, job control,
// Ctrl-C for the program inside, the window size followed, the terminal restored.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { busyboxRootfs } from "./helpers/rootfs";
import { Terminal } from "./helpers/tmux";
import { waitForContainerPid } from "./helpers/containers";
import { findLeaks, foreignNamespaceProcesses } from "./helpers/leaks";

let rootfs: string;
let term: Terminal | null = null;
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterEach(() => {
  term?.kill();
  term = null;
});

/** Starts a terminal, records its modes, and starts `mycr run ARGS` in it; resolves at the container's prompt. */
async function shellInContainer(args: string, cols = 80, rows = 24): Promise<Terminal> {
  term = Terminal.start(cols, rows);
  await term.waitFor(/^outer\$/m);
  term.line("stty -g > /tmp/mycr-tty-before-$$");
  term.line(`"$MYCR" run --rootfs ${rootfs} ${args}`);
  await term.waitFor(/^\/ #$/m);
  return term;
}

/** After the container ended: the status, and whether the outer terminal's modes are as before. */
async function afterExit(t: Terminal): Promise<{ status: number; restored: boolean }> {
  // Typed before mycr is gone, the line would go to the container's terminal instead.
  await t.waitFor(/outer\$\s*$(?![\s\S]*\S)/);
  t.line(`printf 'RESULT %s %s\\n' "$?" "$(stty -g | cmp -s - /tmp/mycr-tty-before-$$ && echo same || echo differ)"; rm -f /tmp/mycr-tty-before-$$`);
  const m = /^RESULT (\d+) (same|differ)$/m.exec(await t.waitFor(/^RESULT \d+ \w+$/m));
  return { status: Number(m![1]), restored: m![2] === "same" };
}

test("a shell gets a terminal of its own with job control, and the terminal is restored", async () => {
  const t = await shellInContainer("sh");
  t.line("tty; echo pid=$$; case $- in *m*) echo job-control;; esac");
  const s = await t.waitFor(/job-control/);
  expect(s).toContain("/dev/pts/0");
  expect(s).toContain("pid=1");
  expect(s).not.toContain("can't access tty");
  t.line("readlink /proc/self/fd/0; ls -l /dev/console | cut -c1");
  await t.waitFor(/\/dev\/pts\/0\nc$/m);
  t.line("exit 3");
  expect(await afterExit(t)).toEqual({ status: 3, restored: true });
});

test("the window size is the terminal's and follows it when it changes", async () => {
  const t = await shellInContainer("sh", 90, 30);
  t.line("stty size");
  await t.waitFor(/^30 90$/m);
  t.resize(120, 40);
  await Bun.sleep(200);
  t.line("clear; stty size");
  await t.waitFor(/^40 120$/m);
  t.line("exit");
  expect((await afterExit(t)).restored).toBe(true);
});

/** Ctrl-C while `sleep 100` runs: the shell must get its prompt back and see sleep die of SIGINT. */
async function interruptSleep(t: Terminal): Promise<void> {
  t.line("sleep 100");
  await Bun.sleep(300);
  t.key("C-c");
  t.line("echo sleep-status=$?");
  await t.waitFor(/^sleep-status=130$/m, 5000);
}

test("Ctrl-C interrupts the program inside, not mycr", async () => {
  const t = await shellInContainer("sh");
  await interruptSleep(t);
  t.line("echo still-$((20+1))");
  await t.waitFor(/^still-21$/m);
  t.line("exit 0");
  expect(await afterExit(t)).toEqual({ status: 0, restored: true });
});

test("with --init, Ctrl-C still reaches the program (it owns the terminal's foreground)", async () => {
  const t = await shellInContainer("--init sh");
  await interruptSleep(t);
  t.line("cat /proc/1/comm; echo pid=$$");
  const s = await t.waitFor(/^pid=\d+$/m);
  expect(s).toMatch(/^mycr$/m);
  expect(s).not.toMatch(/^pid=1$/m);
  t.line("exit 5");
  expect(await afterExit(t)).toEqual({ status: 5, restored: true });
});

test("the terminal is restored when the container is killed from outside", async () => {
  const t = await shellInContainer("sh -s kill-me-from-outside");
  const pid = await waitForContainerPid("kill-me-from-outside");
  process.kill(pid, "SIGKILL");
  expect(await afterExit(t)).toEqual({ status: 137, restored: true });
});

test("the terminal is untouched when the command does not exist", async () => {
  term = Terminal.start();
  const t = term;
  await t.waitFor(/^outer\$/m);
  t.line("stty -g > /tmp/mycr-tty-before-$$");
  t.line(`"$MYCR" run --rootfs ${rootfs} no-such-command`);
  await t.waitFor(/executable file not found/);
  expect(await afterExit(t)).toEqual({ status: 127, restored: true });
});

test("closing the terminal hangs up the container's: the shell exits and nothing is left", async () => {
  const baseline = foreignNamespaceProcesses();
  const t = await shellInContainer("sh");
  t.kill();
  term = null;
  const deadline = Date.now() + 5000;
  while (findLeaks(baseline).length > 0 && Date.now() < deadline) await Bun.sleep(50);
  expect(findLeaks(baseline)).toEqual([]);
});
