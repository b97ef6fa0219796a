// Issue 19: help as docker and git write it — commands grouped, wrapped to the terminal,
// each command's usage, every flag and examples — and shell completion generated from
// the same definitions, typed into real bash, zsh (tmux) and asked of fish.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { dirname } from "node:path";
import { MYCR, mycrEnv } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { Terminal } from "./helpers/tmux";

setDefaultTimeout(60_000);

const GROUP_TITLES = ["Common Commands:", "Management Commands:", "Commands:", "OCI Runtime Commands (runc's interface):", "Global Options:"];

async function help(args: string[], columns: number): Promise<string> {
  const r = await mycr(args, { env: { COLUMNS: String(columns) } });
  expect(r.exitCode, args.join(" ")).toBe(0);
  expect(r.stderr).toBe("");
  return r.stdout;
}

/** The command names `mycr --help` lists, in order of appearance, without repeats. */
function listed(text: string): string[] {
  const names: string[] = [];
  let inGroup = false;
  for (const line of text.split("\n")) {
    if (/^\S.*:$/.test(line)) inGroup = line !== "Global Options:";
    const m = /^ {2}([a-z]+) {2,}/.exec(line);
    if (inGroup && m && !names.includes(m[1]!)) names.push(m[1]!);
  }
  return names;
}

test("mycr --help groups the commands as docker does and wraps to the terminal's width", async () => {
  for (const cols of [80, 60, 132]) {
    const text = await help(["--help"], cols);
    expect(text.startsWith("Usage:  mycr [OPTIONS] COMMAND\n")).toBe(true);
    const titles = text.split("\n").filter((l) => GROUP_TITLES.includes(l));
    expect(titles).toEqual(GROUP_TITLES);
    for (const line of text.split("\n")) expect(line.length, `${cols} columns: ${line}`).toBeLessThanOrEqual(cols);
  }
  const text = await help(["--help"], 80);
  const names = listed(text);
  for (const name of ["run", "exec", "ps", "container", "image", "network", "system", "cp", "diff", "export", "rename", "restart", "version", "create", "state", "delete", "completion", "help"]) {
    expect(names).toContain(name);
  }
  // an 80-column terminal gets no line padded to double width (the complaint)
  expect(text.split("\n").every((l) => l === l.trimEnd())).toBe(true);
  expect(await mycr([], { env: { COLUMNS: "80" } })).toMatchObject({ exitCode: 125, stdout: text });
});

test("every command's help: usage, each flag it parses, examples; mycr help COMMAND says the same", async () => {
  const names = listed(await help(["--help"], 100));
  expect(names.length).toBeGreaterThan(40);
  for (const name of names) {
    const text = await help([name, "--help"], 100);
    expect(text, name).toMatch(new RegExp(`^Usage: {2}mycr ${name}\\b`));
    expect(text, name).toContain("\nExamples:\n  ");
    for (const line of text.split("\n")) expect(line.length, `${name}: ${line}`).toBeLessThanOrEqual(100);
    expect(await help(["help", name], 100)).toBe(text);
    // each flag the help lists (and its short form) is one the parser takes: all of them
    // given, then a flag nobody has, the parser stops at that one (nothing runs)
    for (const form of [1, 2]) {
      const argv: string[] = [];
      for (const m of text.matchAll(/^ {2}(?:(-\w), )?\s*(--[a-z-]+)( \S+)?/gm)) {
        const flag = m[form];
        if (flag === undefined) continue;
        const value = m[3]?.includes("|") ? m[3].trim().split("|")[0]! : "1"; // an enum's first option
        argv.push(...(m[3] ? [flag, value] : [flag]));
      }
      const r = await mycr([name, ...argv, "--zz-no-such-flag"]);
      expect(r, `${name} ${argv.join(" ")}`).toMatchObject({ exitCode: 125, stderr: "mycr: unknown flag: --zz-no-such-flag\n" });
    }
  }
}, 120_000);

test("object help lists the object's verbs; mycr help OBJECT VERB is that verb's help", async () => {
  const text = await help(["container", "--help"], 80);
  expect(text).toMatch(/^Usage: {2}mycr container COMMAND/);
  for (const verb of ["ls", "run", "cp", "diff", "export", "rename", "restart", "prune", "unpause"]) expect(text).toMatch(new RegExp(`^  ${verb} +\\S`, "m"));
  expect(await help(["help", "container", "run"], 80)).toBe(await help(["container", "run", "--help"], 80));
  expect(await help(["container", "run", "--help"], 80)).toMatch(/^Usage: {2}mycr container run \[OPTIONS\] IMAGE \[COMMAND \[ARG\.\.\.\]\]/);
  expect(await help(["system", "--help"], 80)).toMatch(/^ {2}df +Show the disk space/m);
  for (const bad of [["help", "bogus"], ["help", "container", "bogus"], ["bogus"]]) {
    const r = await mycr(bad);
    expect(r.exitCode).toBe(125);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }
});

describe("shell completion", () => {
  let term: Terminal | undefined;
  const name = `completion-${process.pid}`;
  beforeAll(async () => {
    const r = await mycr(["run", "-d", "--name", name, "--network", "none", "--rootfs", busyboxRootfs(), "sleep", "600"]);
    expect(r.exitCode).toBe(0);
  });
  afterAll(async () => {
    await mycr(["rm", "-f", name]);
  });
  afterEach(() => {
    term?.kill();
    term = undefined;
  });

  /** Types `text`, then Tab, in a shell that sourced mycr's completion; returns the screen's last prompt line. */
  async function complete(shell: "bash" | "zsh", text: string, expected: RegExp): Promise<void> {
    term ??= Terminal.start(120, 30);
    term.line(`export PATH=${dirname(MYCR)}:$PATH`);
    if (shell === "bash") term.line("exec bash --norc --noprofile");
    else term.line("exec zsh -f");
    if (shell === "zsh") term.line("autoload -U compinit && compinit -u"); // as a user's .zshrc does
    await Bun.sleep(300);
    term.line(shell === "bash" ? "PS1='bash$ '" : "PS1='zsh$ '");
    term.line(`source <(mycr completion ${shell})`);
    term.clear();
    await term.waitFor(new RegExp(`${shell}\\$$`, "m")); // tmux drops blanks at the ends of lines
    term.line(""); // a fresh prompt
    term.key("C-u");
    term.type(text);
    term.key("Tab");
    await term.waitFor(expected);
    term.key("C-c");
  }

  test("bash: commands, object verbs, flags and container names complete", async () => {
    await complete("bash", "mycr resta", /bash\$ mycr restart$/m);
    await complete("bash", "mycr container rena", /bash\$ mycr container rename$/m);
    await complete("bash", "mycr cp --arc", /bash\$ mycr cp --archive$/m);
    await complete("bash", `mycr stop ${name.slice(0, -2)}`, new RegExp(`bash\\$ mycr stop ${name}$`, "m"));
  });

  test("zsh: the same script through bashcompinit", async () => {
    await complete("zsh", "mycr container rena", /zsh\$ mycr container rename$/m);
    await complete("zsh", "mycr system d", /zsh\$ mycr system df$/m);
  });

  test("fish: complete -C lists commands, verbs and flags with their descriptions", async () => {
    const script = (await mycr(["completion", "fish"])).stdout;
    const ask = (line: string) =>
      Bun.spawnSync(["fish", "--no-config", "-c", `source; complete -C ${JSON.stringify(line)}`], { stdin: new TextEncoder().encode(script), env: { ...mycrEnv(), PATH: `${dirname(MYCR)}:${process.env.PATH}` } })
        .stdout.toString()
        .split("\n");
    expect(ask("mycr resta").some((l) => l.startsWith("restart\tRestart detached containers"))).toBe(true);
    expect(ask("mycr container ren")).toContain("rename");
    expect(ask("mycr cp --arc").some((l) => l.startsWith("--archive\t"))).toBe(true);
    expect(ask("mycr stop ")).toContain(name);
  });

  test("completion refuses an unknown shell with one line", async () => {
    const r = await mycr(["completion", "tcsh"]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain("bash|zsh|fish");
  });
});
