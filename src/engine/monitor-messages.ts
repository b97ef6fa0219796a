// What a monitor tells the `run -d` that started it, over a pipe (the monitor's fd 3):
// one JSON line, then the pipe closes. No line at all means the monitor died.
import { writeSync } from "node:fs";
import { close } from "../sys";

export type MonitorReport = { type: "started"; id: string } | { type: "error"; message: string; code: number };

export const REPORT_FD = 3;

export function sendReport(report: MonitorReport): void {
  try {
    writeSync(REPORT_FD, JSON.stringify(report) + "\n");
    close(REPORT_FD);
  } catch {
    // the caller is gone (killed while waiting): the container runs on regardless
  }
}

/** Reads the one report from the read end of the pipe (null at end-of-file without one). */
export async function readReport(fd: number): Promise<MonitorReport | null> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of Bun.file(fd).stream()) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  const line = text.split("\n")[0];
  if (!line) return null;
  try {
    return JSON.parse(line) as MonitorReport;
  } catch {
    return null;
  }
}
