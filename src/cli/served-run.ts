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
import { reportError } from "./index";
import { messageLine } from "./log";
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

/** Why a `run` with these flags, for this client, is not served here, or undefined. */
function notServed(words: string[], args: ParsedFlags, client: ServedClient): string | undefined {
  if (words[1] === "--help" || words[1] === "-h") return "help";
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
export function serveRun(socket: number, argv: string[], signals: DeliveredSignals, startHere: (id: string) => Promise<void>): ServedOutcome {
  trace("served: request");
  const client = takeClient(socket);
  trace("served: client taken");
  if (typeof client === "string") return { declined: client };
  const declined = (reason: string): ServedOutcome => {
    client.release();
    return { declined: reason };
  };
  const { args: words, exact } = commandLineArgs(argv, client.cmdline);
  if (!exact || words[0] !== "run") return declined("its words are not the command line's");
  let args: ParsedFlags;
  try {
    args = parseFlags(words.slice(1), runCommand.args, runCommand.parse);
  } catch {
    return declined("its flags do not parse (the client says why)");
  }
  const reason = notServed(words, args, client);
  if (reason !== undefined) return declined(reason);
  return { accepted: true, foreground: args.detach !== true, code: runFor(client, args, signals, startHere) };
}
