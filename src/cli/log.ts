// Messages to the user: one line on stderr, prefixed "mycr:", through consola.
// stdout stays for data (ids, tables, JSON).
import { createConsola, LogLevels, type ConsolaInstance, type LogObject } from "consola/core";
import { appendFileSync, writeSync } from "node:fs";

function format(obj: LogObject): string {
  return messageLine(obj.type, obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
}

/** One message as mycr prints it: "mycr: warning: TEXT", "mycr: TEXT". */
export function messageLine(type: string, text: string): string {
  switch (type) {
    case "warn":
      return `mycr: warning: ${text}`;
    case "debug":
    case "trace":
      return `mycr: debug: ${text}`;
    default:
      return `mycr: ${text}`;
  }
}

/** A message nobody can read any more (stderr closed) is dropped, not a second error. */
function toStderr(line: string): void {
  try {
    writeSync(2, line);
  } catch {
    // EPIPE or EBADF: there is no one to tell
  }
}

let instance: ConsolaInstance | null = null;

/** Made at the first message: most runs print none, and making it costs ~0.7 ms of CPU. */
function consola(): ConsolaInstance {
  instance ??= createConsola({
    level: LogLevels.info,
    reporters: [{ log: (obj: LogObject) => toStderr(format(obj) + "\n") }],
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
    log: (obj: LogObject) => {
      const text = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
      const level = obj.type === "warn" ? "warning" : obj.type === "log" || obj.type === "success" ? "info" : obj.type;
      const line = format === "json" ? JSON.stringify({ level, msg: text, time: new Date().toISOString() }) : `${new Date().toISOString()} ${level}: ${text}`;
      try {
        appendFileSync(path, line + "\n");
      } catch {
        // an unwritable log must not hide the error itself
      }
    },
  });
}
