// The lines of mycr's messages, on stderr and in a --log file, apart from consola (./log.ts):
// a path that has only warnings to print (the OCI verbs' light path) writes them without
// loading it.
import { appendFileSync, writeSync } from "node:fs";

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
export function toStderr(line: string): void {
  try {
    writeSync(2, line);
  } catch {
    // EPIPE or EBADF: there is no one to tell
  }
}

/**
 * --log FILE: one message appended to FILE as a text line or as the JSON line runc writes
 * ({"level","msg","time"}), which podman and containerd show on failure.
 */
export function toLogFile(path: string, format: "text" | "json", type: string, text: string): void {
  const level = type === "warn" ? "warning" : type === "log" || type === "success" ? "info" : type;
  const line = format === "json" ? JSON.stringify({ level, msg: text, time: new Date().toISOString() }) : `${new Date().toISOString()} ${level}: ${text}`;
  try {
    appendFileSync(path, line + "\n");
  } catch {
    // an unwritable log must not hide the error itself
  }
}
