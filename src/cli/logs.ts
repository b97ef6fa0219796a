import { findContainer, refresh } from "../engine/containers";
import { LogFollower, logPath, parseSince, readLog, type LogEntry } from "../engine/logs";
import { containerDir } from "../engine/paths";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { writeAll } from "./output";

function write(fd: 1 | 2, text: string): void {
  writeAll(fd, Buffer.from(text));
}

export default defineMycrCommand({
  meta: { name: "logs", description: "Show what a detached container wrote to stdout and stderr" },
  args: {
    follow: { type: "boolean", alias: "f", description: "Keep printing new output until the container exits" },
    tail: { type: "string", alias: "n", description: "Only the last N lines (all: every line)", valueHint: "N" },
    since: { type: "string", description: "Only lines since a time (RFC 3339, Unix seconds) or a duration ago (10m)", valueHint: "TIME" },
    timestamps: { type: "boolean", alias: "t", description: "Prefix each line with its time" },
    container: { type: "positional", description: "Container name or id" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const [ref, ...rest] = args._;
    if (!ref || rest.length > 0) throw new ContainerError("logs needs exactly one container");
    const store = new StateStore(global.stateRoot);
    const view = findContainer(store, ref);
    if (!view.detached) throw new ContainerError(`container ${ref} has no log: only containers started with run -d keep one`);
    const tailText = single(args.tail) ?? "all";
    if (tailText !== "all" && !/^\d+$/.test(tailText)) throw new ContainerError(`--tail ${tailText}: expected a number or all`);
    const sinceText = single(args.since);
    const since = sinceText !== undefined ? parseSince(sinceText) : 0;
    const stamps = args.timestamps === true;
    // stdout and stderr as the container wrote them: each to ours of the same name.
    const print = (entries: LogEntry[]) => {
      for (const e of entries) {
        if (since && Date.parse(e.time) < since) continue;
        write(e.stream === "stderr" ? 2 : 1, stamps ? `${e.time} ${e.log}` : e.log);
      }
    };
    const path = logPath(containerDir(view.id));
    const { entries: all, position } = readLog(path);
    // The follower goes on from where the read ended: nothing is lost or printed twice.
    const follower = args.follow ? new LogFollower(path, position) : null;
    let entries = all;
    if (tailText !== "all") entries = Number(tailText) === 0 ? [] : entries.slice(-Number(tailText));
    print(entries);
    if (!follower) return 0;
    for (;;) {
      const now = refresh(store, view.id);
      const over = !now || now.state === "exited" || now.state === "dead";
      print(follower.poll());
      if (over) return 0;
      await Bun.sleep(100);
    }
  },
});
