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
  const columns = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"];
  return formatTable(
    columns.map((c) => CONTAINER_HEADERS[c]!),
    views.map((v) => {
      const f = containerFields(v, trunc);
      return columns.map((c) => String(f[c]));
    }),
  );
}

/** docker ps's template fields ({{.ID}}, {{.Names}}, ...) and their table headers. */
export const CONTAINER_HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Names: "NAMES",
  Labels: "LABELS",
};

export function containerFields(v: ContainerView, trunc: boolean): Record<string, unknown> {
  return {
    ID: trunc ? v.id.slice(0, 12) : v.id,
    Image: v.image,
    Command: quoteCommand(v.command, trunc),
    CreatedAt: new Date(v.created).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000 UTC"),
    RunningFor: `${humanDuration(Date.now() - Date.parse(v.created))} ago`,
    Ports: v.ports.map(portText).join(", "),
    State: v.state,
    Status: v.status,
    Names: v.name ?? "",
    Labels: Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(","),
  };
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
