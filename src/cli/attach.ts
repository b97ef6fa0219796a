// docker attach: a running detached container's output as it comes, from its supervisor
// (src/engine/attach-hub.ts), stdout and stderr each to ours; with -i what we read goes
// to its stdin (or its terminal, put in raw mode here, whose size follows ours); the
// detach keys leave it running; it ends with the container's exit code.
import { findContainer } from "../engine/containers";
import { DEFAULT_DETACH_KEYS, DetachWatcher, parseDetachKeys } from "../engine/detach-keys";
import { attachSupervised } from "../engine/supervisor-client";
import { ContainerError } from "../runtime/errors";
import { forwardSignals } from "../runtime/signals";
import { StateStore } from "../runtime/state";
import { makeRaw } from "../runtime/terminal";
import { getWindowSize, isTerminal } from "../sys";
import { single, UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { writeAll } from "./output";

export default defineMycrCommand({
  meta: { name: "attach", description: "Attach to a running detached container: its output, and with -i your input, until it exits or you type the detach keys" },
  args: {
    "detach-keys": { type: "string", description: `Keys that leave the container running (default ${DEFAULT_DETACH_KEYS})`, valueHint: "KEYS" },
    "no-stdin": { type: "boolean", description: "Do not pass your input to the container" },
    "sig-proxy": { type: "boolean", default: true, description: "Pass the signals mycr receives to the container (--sig-proxy=false: not; never with a terminal)" },
    container: { type: "positional", description: "Container name or id" },
  },
  needsRoot: true,
  async run(args, global) {
    if (args._.length !== 1) throw new UsageError("attach needs one container: mycr attach CONTAINER");
    const ref = args._[0]!;
    const store = new StateStore(global.stateRoot);
    const view = findContainer(store, ref);
    const rec = view.detached;
    if (!rec) throw new ContainerError(`container ${ref} was not started with run -d: nothing keeps its output to attach to`);
    if (view.state !== "running") throw new ContainerError(`cannot attach to container ${ref}: it is ${view.state} (start it first)`);
    const keys = parseDetachKeys(single(args["detach-keys"]) ?? DEFAULT_DETACH_KEYS);
    const tty = rec.request.tty === true;
    const stdin = args["no-stdin"] !== true && rec.request.interactive === true;
    // docker proxies signals without a terminal only: with one, ^C is a byte it receives.
    const signals = args["sig-proxy"] !== false && !tty ? forwardSignals() : null;
    if (signals && rec.pid !== undefined) signals.attach(rec.pid.pid);
    try {
      const code = await attachSupervised(view.id, {
        output: (stream, data) => writeAll(stream === "stderr" ? 2 : 1, data),
        onAccepted(send, detach) {
          const restore = stdin && tty && isTerminal(0) ? makeRaw(0) : null;
          const resize = (): void => {
            const size = getWindowSize(1) ?? getWindowSize(0);
            if (size) send({ type: "resize", ...size });
          };
          if (tty) {
            process.on("SIGWINCH", resize);
            resize();
          }
          const watcher = new DetachWatcher(keys);
          const onData = (chunk: Buffer): void => {
            const { pass, detach: leave } = watcher.feed(chunk);
            if (pass.length > 0) send({ type: "input", data: Buffer.from(pass).toString("base64") });
            if (leave) detach();
          };
          if (stdin) process.stdin.on("data", onData);
          return () => {
            process.off("SIGWINCH", resize);
            if (stdin) {
              process.stdin.off("data", onData);
              process.stdin.pause();
            }
            restore?.();
          };
        },
      });
      if (code === null) throw new ContainerError(`attach ${ref}: mycr's supervisor went away`);
      return code === "detached" ? 0 : code;
    } finally {
      signals?.dispose();
    }
  },
});
