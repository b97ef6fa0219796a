// The supervisor's side of a served run (docs/run.md, "Runs served by the supervisor"):
// `mycr run ARGS...` as the client typed it, run here with the client's words,
// environment, directory, stdio and signals, so that it behaves as the client's own run
// would: the same flags and checks (./run.ts), the same messages on its stderr, the
// same exit status. What this process cannot do as the client would, it declines
// before anything is done, and the client runs it itself.
import { writeSync } from "node:fs";
import { takeClient, type ServedClient } from "../engine/served-run-peer";
import { resolveEnv } from "../engine/env";
import type { DeliveredSignals } from "../runtime/signals";
import { list, parseFlags, type ParsedFlags } from "./argv";
import { reportError } from "./report-error";
import { messageLine } from "./log-lines";
import { commandLineArgs } from "./raw-argv";
import { trace } from "../runtime/trace";
import runCommand, { runDetachedFrom, runRequest, runToEnd, type MessageSinks } from "./run";

export type ServedOutcome = { declined: string } | { accepted: true; foreground: boolean; code: Promise<number> };

/** A flag whose value names a file read relative to the directory: resolved in the client's, it is declined instead. */
function relativePathFlag(args: ParsedFlags): string | undefined {
  const relative = (path: string | undefined) => path !== undefined && path !== "" && !path.startsWith("/");
  if (list(args["env-file"]).some(relative)) return "--env-file";
  if (list(args["security-opt"]).some((o) => /^seccomp[=:]/.test(o) && !["unconfined", "default"].includes(o.slice(8)) && relative(o.slice(8)))) return "--security-opt seccomp=";
  if (list(args.device).some((d) => relative(d.split(":")[0]))) return "--device";
  return undefined;
}

/**
 * `run`'s flags from the client's words: `mycr run ...`, or docker's `mycr container run
 * IMAGE ...` as `container run` turns it into run's; or why not (help, no image, flags
 * that do not parse: the client then says what is wrong, as always).
 */
async function runFlags(words: string[]): Promise<ParsedFlags | string> {
  const docker = words[0] === "container" && words[1] === "run";
  if (words[0] !== "run" && !docker) return "not a run";
  const rest = words.slice(docker ? 2 : 1);
  if (rest[0] === "--help" || rest[0] === "-h") return "help";
  const command = docker ? (await import("./container-run")).default : runCommand;
  let args: ParsedFlags;
  try {
    args = parseFlags(rest, command.args, command.parse);
  } catch {
    return "its flags do not parse (the client says why)";
  }
  if (!docker) return args;
  const [image, ...commandWords] = args._;
  return image === undefined ? "no image (the client says so)" : { ...args, image, _: commandWords };
}

/** Why a `run` with these flags, for this client, is not served here, or undefined. */
function notServed(args: ParsedFlags, client: ServedClient): string | undefined {
  if (args.bundle !== undefined) return "--bundle";
  // A detached container's stdio and terminal are the supervisor's; a foreground one's the client's.
  if (args.detach !== true) {
    if (args.tty === true) return "-t: a terminal";
    // job control, raw mode and the window size stay with the caller's process
    if (client.hasTerminal) return "its stdio is a terminal";
  }
  const flag = relativePathFlag(args);
  return flag ? `a relative path in ${flag}` : undefined;
}

/** Lines to the client's stderr, as our log would write them to ours. */
function clientLog(stderr: number): MessageSinks & { error: (message: string) => void } {
  const say = (type: string) => (message: string) => {
    try {
      writeSync(stderr, messageLine(type, message) + "\n");
    } catch {
      // the client's stderr is closed: nobody to tell, as for our own
    }
  };
  return { error: say("error"), warn: say("warn"), info: say("info") };
}

async function runFor(client: ServedClient, args: ParsedFlags, signals: DeliveredSignals, startHere: (id: string) => Promise<void>): Promise<number> {
  const [stdin, stdout, stderr] = client.stdio;
  const to = clientLog(stderr);
  try {
    const request = {
      ...(await runRequest(args, { debug: false }, to)),
      // -e KEY and --env-file read in the client's environment now, as run -d's client does
      env: resolveEnv(list(args["env-file"]), list(args.env), client.env),
      envFiles: [],
      cwd: client.cwd,
    };
    if (args.detach === true) {
      const id = await runDetachedFrom(request, args, startHere);
      writeSync(stdout, id + "\n"); // the id, as `run -d` prints it
      return 0;
    }
    return await runToEnd({ ...request, caller: { stdin, stdout, stderr, signals, warn: to.warn } }, args, to.error);
  } catch (e) {
    return reportError(e, false, to.error);
  } finally {
    client.release();
  }
}

/**
 * Takes the run of the client at the other end of `socket` (an fd of ours), or declines
 * it. Accepted, the container's exit status comes in `code`; `signals` carries what the
 * client is sent (and SIGKILL when it goes away) to the container.
 */
export async function serveRun(socket: number, argv: string[], signals: DeliveredSignals, startHere: (id: string) => Promise<void>): Promise<ServedOutcome> {
  trace("served: request");
  const client = takeClient(socket);
  trace("served: client taken");
  if (typeof client === "string") return { declined: client };
  const declined = (reason: string): ServedOutcome => {
    client.release();
    return { declined: reason };
  };
  try {
    const { args: words, exact } = commandLineArgs(argv, client.cmdline);
    if (!exact) return declined("its words are not the command line's");
    const args = await runFlags(words);
    if (typeof args === "string") return declined(args);
    const reason = notServed(args, client);
    if (reason !== undefined) return declined(reason);
    return { accepted: true, foreground: args.detach !== true, code: runFor(client, args, signals, startHere) };
  } catch (e) {
    client.release();
    throw e;
  }
}
