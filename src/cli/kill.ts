import { killContainer, parseSignal } from "../runtime/kill";
import { StateStore } from "../runtime/state";
import { ContainerError } from "../runtime/errors";
import { single } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "kill", description: "Send a signal to a container (default SIGTERM)" },
  args: {
    all: { type: "boolean", alias: "a", description: "Send it to every process in the container" },
    signal: { type: "string", alias: "s", description: "Signal name or number", valueHint: "SIGNAL" },
    id: { type: "positional", description: "Container id, then optionally the signal" },
  },
  needsRoot: true,
  run(args, global) {
    const [id, positionalSignal, ...rest] = args._;
    if (!id) throw new ContainerError("kill needs a container id");
    if (rest.length > 0) throw new ContainerError(`kill: unexpected arguments: ${rest.join(" ")}`);
    const signal = parseSignal(single(args.signal) ?? positionalSignal ?? "SIGTERM");
    killContainer(new StateStore(global.stateRoot), id, signal, args.all === true);
    return 0;
  },
});
