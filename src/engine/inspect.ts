// `mycr inspect`: docker's view of a container, built from what the runtime's state,
// the engine's record and the monitor's record know.
import type { ContainerView } from "./containers";
import { logPath } from "./logs";
import { containerDir } from "./paths";
import { portBindings } from "./ports";

export function inspectContainer(v: ContainerView): Record<string, unknown> {
  const det = v.detached;
  const rt = v.runtime;
  const spec = rt?.spec;
  const proc = spec?.process;
  return {
    Id: v.id,
    Name: v.name ?? "",
    Created: v.created,
    Path: v.command[0] ?? "",
    Args: v.command.slice(1),
    Image: v.image,
    State: {
      Status: v.state,
      Running: v.state === "running",
      Paused: v.state === "paused",
      Restarting: v.state === "restarting",
      Dead: v.state === "dead",
      OOMKilled: det?.error === "out of memory",
      Pid: v.pid ?? 0,
      ExitCode: v.exitCode ?? 0,
      Error: det?.error ?? (v.state === "dead" ? "mycr's supervisor was killed, and the container with it" : ""),
      StartedAt: det?.startedAt ?? "",
      FinishedAt: det?.finishedAt ?? "",
    },
    RestartCount: det?.restartCount ?? 0,
    Config: {
      Hostname: spec?.hostname ?? det?.request.hostname ?? "",
      User: det?.request.user ?? (proc?.user ? `${proc.user.uid}:${proc.user.gid}` : ""),
      Tty: proc?.terminal ?? det?.request.tty ?? false,
      Env: proc?.env ?? det?.request.env ?? [],
      Cmd: v.command,
      WorkingDir: proc?.cwd ?? det?.request.workdir ?? "/",
      Labels: v.labels,
    },
    HostConfig: {
      AutoRemove: det?.autoRemove ?? false,
      RestartPolicy: det ? { Name: det.restart.name, MaximumRetryCount: det.restart.maximumRetryCount } : { Name: "no", MaximumRetryCount: 0 },
      LogConfig: det ? { Type: "json-file", Config: { "max-size": String(det.log.maxSize), "max-file": String(det.log.maxFiles) } } : null,
      ReadonlyRootfs: spec?.root?.readonly ?? det?.request.readOnly ?? false,
    },
    NetworkSettings: { Ports: portBindings(v.ports) },
    Mounts: (spec?.mounts ?? []).map((m) => ({ Type: m.type ?? "bind", Source: m.source ?? "", Destination: m.destination, Options: m.options ?? [] })),
    Cgroup: rt?.cgroup ?? null,
    LogPath: det ? logPath(containerDir(v.id)) : "",
    Monitor: det?.monitor?.pid ?? 0,
    Bundle: rt?.bundle ?? "",
    StateRoot: det?.stateRoot ?? "",
  };
}
