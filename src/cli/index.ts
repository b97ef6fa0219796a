// The command tree: global flags, then one command per file.
import { trace } from "../runtime/trace";
import { ContainerError } from "../runtime/errors";
import { SysError } from "../sys/errno";
import { libcLoaded } from "../sys/libc-loaded";
import { UsageError, parseFlags } from "./argv";
import { commandLineArgs } from "./raw-argv";
import type { GlobalOptions, MycrCommand } from "./command";
import type { ParsedFlags } from "./argv";
import { enableDebug, log, logToFile } from "./log";
import { setWarningSink } from "../runtime/warn";
import { OUTPUT_CLOSED_STATUS, OutputClosed, out } from "./output";
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

/**
 * Errors often quote the user's input (a path, an env entry, a flag value), which may
 * hold newlines or escape sequences: show them escaped, so the error stays one line.
 */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** Says what went wrong, in one line through `error` (our log by default); returns the exit status. */
export function reportError(e: unknown, debug: boolean, error: (message: string) => void = (m) => log.error(m)): number {
  if (e instanceof OutputClosed) return OUTPUT_CLOSED_STATUS; // `mycr ps | head`: nothing went wrong
  const err = e instanceof Error ? e : new Error(String(e));
  error(oneLine(err.message));
  if (debug) {
    if (err instanceof ContainerError && err.detail) log.debug(err.detail);
    else if (err.stack) log.debug(err.stack);
  }
  if (err instanceof ContainerError) return err.exitCode;
  if (err instanceof UsageError || err instanceof SysError) return 125;
  return 125;
}

/**
 * Exits with `code` (all output was written synchronously): without Bun's teardown when
 * libc is loaded already; otherwise loading it would cost more than the teardown.
 */
export async function finish(code: number): Promise<never> {
  if (!libcLoaded()) {
    trace("cli: exit");
    process.exit(code);
  }
  const { exitNow } = await import("../sys/process");
  trace("cli: exit");
  return exitNow(code);
}
