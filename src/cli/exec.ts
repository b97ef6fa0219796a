import { readFileSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { execInContainer } from "../runtime/exec";
import { StateStore } from "../runtime/state";
import type { Process } from "../spec/types";
import { list, single } from "./argv";
import { defineMycrCommand } from "./command";
import { findRuntime } from "../engine/containers";
import { checkUser } from "../engine/names";
import { callerVariable, isTerminal } from "../sys";
import { callersOciContainer } from "./oci-caller";

/** `-e KEY` takes KEY's value from our environment, and is left out when unset (docker). */
function envEntry(text: string): string[] {
  if (text.includes("=")) return [text];
  const value = callerVariable(text); // bytes kept, as -e KEY=VALUE keeps them
  return value === undefined ? [] : [`${text}=${value}`];
}

/**
 * The container's environment for a process run as another user: without mycr's default
 * HOME=/root, so the user's own HOME comes from its passwd entry (as run -u and docker).
 */
function baseEnv(env: string[], otherUser: boolean): string[] {
  return otherUser ? env.filter((e) => e !== "HOME=/root") : env;
}

/** -t: TERM=xterm unless the container's or -e's environment has a TERM (docker). */
function withTerm(env: string[], tty: boolean): string[] {
  return tty && !env.some((e) => e.startsWith("TERM=")) ? [...env, "TERM=xterm"] : env;
}

export default defineMycrCommand({
  meta: { name: "exec", description: "Run a new process in a running container" },
  args: {
    process: { type: "string", alias: "p", description: "JSON file with the OCI process to run", valueHint: "FILE" },
    tty: { type: "boolean", alias: "t", description: "Allocate a terminal" },
    interactive: { type: "boolean", alias: "i", description: "Pass stdin (a pipe or file is passed anyway; a terminal only with -i)" },
    cwd: { type: "string", alias: ["w", "workdir"], description: "Working directory inside", valueHint: "DIR" },
    env: { type: "string", alias: "e", description: "KEY=VALUE added to the environment, or KEY from ours (repeatable)", valueHint: "KEY[=VALUE]" },
    user: { type: "string", alias: "u", description: "USER[:GROUP] to run as, names from the container's /etc/passwd and /etc/group", valueHint: "USER[:GROUP]" },
    detach: { type: "boolean", alias: "d", description: "Return once the process runs" },
    "pid-file": { type: "string", description: "Write the process's pid to this file", valueHint: "FILE" },
    "console-socket": { type: "string", description: "Unix socket to receive the terminal's master fd", valueHint: "PATH" },
    "preserve-fds": { type: "string", description: "Pass this many fds beyond stdio", valueHint: "N" },
    "no-new-privs": { type: "boolean", description: "Set no_new_privileges for the process" },
    id: { type: "positional", description: "Container id, then the command" },
  },
  parse: { stopAtFirstPositional: true, leadingPositionals: 1, bytesFlags: ["env"] },
  needsRoot: true,
  // joins the user namespace its container runs in: only its root may enter the container
  rootless: { caller: callersOciContainer, otherwise: { join: (args) => args._[0] } },
  async run(args, global) {
    const preserve = single(args["preserve-fds"]);
    if (preserve !== undefined && preserve !== "0") throw new ContainerError("exec --preserve-fds is not supported by mycr yet (create and run --bundle support it)");
    const [id, ...command] = args._;
    if (!id) throw new ContainerError("exec needs a container id");
    const store = new StateStore(global.stateRoot);
    const found = findRuntime(store, id);
    // (the runtime's own check below words it for OCI containers)
    if (!found.record) {
      throw new ContainerError(`cannot exec in container ${id}: it is ${found.view.state === "created" ? "not started" : found.view.state}`);
    }
    const { id: fullId, record } = found;
    let proc: Process;
    const file = single(args.process);
    if (file) {
      if (command.length > 0) throw new ContainerError("exec: give either --process or a command, not both");
      try {
        proc = JSON.parse(readFileSync(file, "utf8")) as Process;
      } catch (e) {
        throw new ContainerError(`--process ${file}: ${(e as Error).message}`);
      }
      if (!Array.isArray(proc.args) || proc.args.length === 0) throw new ContainerError(`--process ${file}: args must not be empty`);
    } else {
      if (command.length === 0) throw new ContainerError("exec needs a command to run");
      const base = record.spec.process!;
      proc = {
        ...base,
        args: command,
        cwd: single(args.cwd) ?? base.cwd,
        env: withTerm([...baseEnv(base.env ?? [], args.user !== undefined), ...list(args.env).flatMap(envEntry)], args.tty === true),
        terminal: args.tty === true,
        ...(args["no-new-privs"] ? { noNewPrivileges: true } : {}),
      };
    }
    const userText = single(args.user);
    return execInContainer({
      store,
      id: fullId,
      record,
      process: proc,
      // -u as run -u: resolved by init in the container's files; --process: its numbers
      user: userText !== undefined ? checkUser(userText) : file ? null : undefined,
      detached: args.detach === true,
      pidFile: single(args["pid-file"]),
      consoleSocket: single(args["console-socket"]),
      // As run: a terminal on stdin is passed with -i only, a pipe or file always (OCI clients pass pipes).
      stdio: [args.interactive === true || (args.interactive === undefined && !isTerminal(0)) ? "inherit" : "ignore", "inherit", "inherit"],
    });
  },
});
