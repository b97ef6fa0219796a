// The command tree: global flags, then one command per file.
import { trace } from "../runtime/trace";
import { ContainerError } from "../runtime/errors";
import { UsageError, parseFlags } from "./argv";
import { commandLineArgs } from "./raw-argv";
import type { GlobalOptions, MycrCommand } from "./command";
import type { ParsedFlags } from "./argv";
import { enableDebug, log, logToFile } from "./log";
import { setWarningSink } from "../runtime/warn";
import { out } from "./output";
import { reportError } from "./report-error";
import { COMMANDS, GLOBAL_ARGS, OBJECTS, loadAll, objectVerbs, ungroup } from "./commands";

import { VERSION, printVersion } from "./version-number";


/** Help for `name` (a command or an object such as `container`), or for mycr itself. */
export async function helpText(name?: string): Promise<string> {
  const help = await import("./help");
  if (name === undefined) return help.globalHelp(await loadAll(), GLOBAL_ARGS, VERSION);
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command "${name}" (see mycr --help)`);
  const cmd = (await load()).default;
  return OBJECTS.includes(name) ? help.objectHelp(cmd, objectVerbs(name), await loadAll()) : help.commandHelp(cmd);
}

/** Splits `mycr [global flags] COMMAND [flags/args]`. */
function splitGlobal(argv: string[]): { global: string[]; name?: string; rest: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-")) {
    const flag = argv[i]!;
    i += ["--root", "--log", "--log-format"].includes(flag) ? 2 : 1;
  }
  return { global: argv.slice(0, i), name: argv[i], rest: argv.slice(i + 1) };
}

export async function runCli(): Promise<number> {
  trace("cli");
  const { args: argv, exact } = commandLineArgs();
  // Only a global flag: "--debug" after the command is the command's (mycr run echo --debug)
  // or an unknown flag to report, and must not turn stack traces on.
  const split = splitGlobal(argv);
  const { global: globalArgv } = split;
  const { name, rest } = ungroup(split.name, split.rest);
  const debug = globalArgv.includes("--debug");
  if (debug) enableDebug();
  try {
    const lossy = exact ? undefined : argv.find((a) => a.includes("\ufffd"));
    if (lossy !== undefined) throw new UsageError(`argument ${JSON.stringify(lossy)}: cannot be read byte for byte (no /proc/self/cmdline); give it in UTF-8`);
    const g = parseFlags(globalArgv, GLOBAL_ARGS);
    if (g.version) return printVersion();
    if (!name || g.help) {
      out(await helpText());
      return name || g.help ? 0 : 125;
    }
    setWarningSink((m) => log.warn(m));
    if (typeof g.log === "string") logToFile(g.log, g["log-format"] === "json" ? "json" : "text");
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}" (see mycr --help)`);
    const cmd = (await load()).default;
    trace("cli: command loaded");
    if (rest[0] === "--help" || rest[0] === "-h") {
      out(await helpText(name));
      return 0;
    }
    const args = parseFlags(rest, cmd.args, cmd.parse);
    const global: GlobalOptions = { debug, stateRoot: typeof g.root === "string" ? g.root : undefined, systemdCgroup: g["systemd-cgroup"] === true };
    if (cmd.needsRoot && process.getuid?.() !== 0) return await rootless(name, cmd, args, argv, global);
    return await cmd.run(args, global);
  } catch (e) {
    return reportError(e, debug);
  }
}

/** An ordinary user's command: run again as root of a user namespace, or refused in one line. */
async function rootless(name: string, cmd: MycrCommand, args: ParsedFlags, argv: string[], global: GlobalOptions, mode = cmd.rootless): Promise<number> {
  if (typeof mode === "object" && "caller" in mode) {
    if (mode.caller === true || mode.caller(args, global)) return await cmd.run(args, global);
    return rootless(name, cmd, args, argv, global, mode.otherwise);
  }
  if (mode === undefined) throw new ContainerError(`${name} needs root (try sudo); without root mycr runs containers with run, exec, ps, logs, stop, rm and the image commands`);
  if (typeof mode === "object" && "refuse" in mode) throw new ContainerError(`${name}: ${mode.refuse}`);
  const { runInUserNamespace, userNamespaceOf } = await import("../engine/rootless/enter");
  const target = typeof mode === "object" ? mode.join(args) : undefined;
  const join = target !== undefined ? userNamespaceOf(target) : undefined;
  return runInUserNamespace({ args: argv, ...(join !== undefined ? { join } : {}), onNotice: (m) => log.warn(m) });
}
