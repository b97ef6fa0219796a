// docker ps's table and JSON for container views.
import type { ContainerView } from "../engine/containers";
import { humanDuration } from "../engine/duration";
import { formatTable } from "./table";
import { portText } from "../engine/ports";

function quoteCommand(cmd: string[], trunc: boolean): string {
  const text = cmd.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(" ");
  return `"${trunc && text.length > 20 ? text.slice(0, 19) + "…" : text}"`;
}

export function containerTable(views: ContainerView[], trunc: boolean): string {
  const now = Date.now();
  return formatTable(
    ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
    views.map((v) => [
      trunc ? v.id.slice(0, 12) : v.id,
      v.image,
      quoteCommand(v.command, trunc),
      `${humanDuration(now - Date.parse(v.created))} ago`,
      v.status,
      v.ports.map(portText).join(", "),
      v.name ?? "",
    ]),
  );
}

/** One JSON object a line, as `docker ps --format json`. */
export function containerJson(v: ContainerView): string {
  return JSON.stringify({
    ID: v.id,
    Names: v.name ?? "",
    Image: v.image,
    Command: v.command,
    CreatedAt: v.created,
    State: v.state,
    Status: v.status,
    Ports: v.ports.map(portText).join(", "),
    ...(v.pid !== undefined ? { Pid: v.pid } : {}),
    ...(v.exitCode !== undefined ? { ExitCode: v.exitCode } : {}),
  });
}
