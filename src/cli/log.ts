// Messages to the user: one line on stderr, prefixed "mycr:", through consola.
// stdout stays for data (ids, tables, JSON).
import { createConsola, LogLevels, type LogObject } from "consola/core";
import { writeSync } from "node:fs";

function format(obj: LogObject): string {
  const text = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
  switch (obj.type) {
    case "warn":
      return `mycr: warning: ${text}`;
    case "debug":
    case "trace":
      return `mycr: debug: ${text}`;
    default:
      return `mycr: ${text}`;
  }
}

export const log = createConsola({
  level: LogLevels.info,
  reporters: [{ log: (obj: LogObject) => writeSync(2, format(obj) + "\n") }],
});

export function enableDebug(): void {
  log.level = LogLevels.debug;
}
