// Messages to the user: one line on stderr, prefixed "mycr:", through consola.
// stdout stays for data (ids, tables, JSON).
import { createConsola, LogLevels, type ConsolaInstance, type LogObject } from "consola/core";
import { messageLine, toLogFile, toStderr } from "./log-lines";

function textOf(obj: LogObject): string {
  return obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
}

let instance: ConsolaInstance | null = null;

/** Made at the first message: most runs print none, and making it costs ~0.7 ms of CPU. */
function consola(): ConsolaInstance {
  instance ??= createConsola({
    level: LogLevels.info,
    reporters: [{ log: (obj: LogObject) => toStderr(messageLine(obj.type, textOf(obj)) + "\n") }],
  });
  return instance;
}

export const log = {
  error: (message: unknown, ...args: unknown[]) => consola().error(message, ...args),
  warn: (message: unknown, ...args: unknown[]) => consola().warn(message, ...args),
  info: (message: unknown, ...args: unknown[]) => consola().info(message, ...args),
  debug: (message: unknown, ...args: unknown[]) => consola().debug(message, ...args),
};

export function enableDebug(): void {
  consola().level = LogLevels.debug;
}

/**
 * --log FILE: messages are also appended to FILE, as text lines or as the JSON lines
 * runc writes ({"level","msg","time"}), which podman and containerd show on failure.
 */
export function logToFile(path: string, format: "text" | "json"): void {
  consola().addReporter({
    log: (obj: LogObject) => toLogFile(path, format, obj.type, textOf(obj)),
  });
}
