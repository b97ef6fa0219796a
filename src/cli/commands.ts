// The command table: every command by the name users type, one module each (loaded only
// when used), and docker's object grammar (`mycr container ls`) over them. Help and
// shell completion are generated from it.
import type { ArgsDef } from "citty";
import type { MycrCommand } from "./command";

export const COMMANDS: Record<string, () => Promise<{ default: MycrCommand }>> = {
  run: () => import("./run"),
  gc: () => import("./gc"),
  stats: () => import("./stats"),
  create: () => import("./create"),
  start: () => import("./start"),
  state: () => import("./state"),
  kill: () => import("./kill"),
  delete: () => import("./delete"),
  list: () => import("./list"),
  ps: () => import("./ps"),
  pause: () => import("./pause"),
  resume: () => import("./resume"),
  spec: () => import("./spec"),
  features: () => import("./features"),
  info: () => import("./info"),
  exec: () => import("./exec"),
  update: () => import("./update"),
  events: () => import("./events"),
  network: () => import("./network"),
  // docker's lifecycle commands over both faces' containers
  logs: () => import("./logs"),
  stop: () => import("./stop"),
  rm: () => import("./rm"),
  wait: () => import("./wait"),
  inspect: () => import("./inspect"),
  top: () => import("./top"),
  port: () => import("./port"),
  restart: () => import("./restart"),
  rename: () => import("./rename"),
  cp: () => import("./cp"),
  diff: () => import("./diff"),
  export: () => import("./export"),
  container: () => import("./container"),
  pull: () => import("./pull"),
  push: () => import("./push"),
  images: () => import("./images"),
  rmi: () => import("./rmi"),
  tag: () => import("./tag"),
  import: () => import("./import"),
  commit: () => import("./commit"),
  build: () => import("./build"),
  load: () => import("./load"),
  save: () => import("./save"),
  login: () => import("./login"),
  logout: () => import("./logout"),
  image: () => import("./image"),
  version: () => import("./version"),
  attach: () => import("./attach"),
  system: () => import("./system"),
  // docker's object grammar where it differs from the top-level verb (reached through GROUPED only)
  "container run": () => import("./container-run"),
  "system df": () => import("./system-df"),
  help: () => import("./help-command"),
  completion: () => import("./completion"),
};

/** docker's grouped names for top-level commands: `mycr image ls` is `mycr images`. */
export const GROUPED: Record<string, Record<string, string>> = {
  image: { ls: "images", list: "images", rm: "rmi", remove: "rmi", pull: "pull", push: "push", tag: "tag", load: "load", save: "save", import: "import", build: "build" },
  container: {
    ...Object.fromEntries(["port", "start", "restart", "rename", "cp", "diff", "export", "attach", "rm", "stop", "kill", "logs", "inspect", "wait", "top", "stats", "exec", "pause", "commit"].map((v) => [v, v])),
    ls: "ps", list: "ps", ps: "ps", remove: "rm", unpause: "resume", run: "container run",
  },
  system: { df: "system df", info: "info" },
};

/** Verbs the object commands handle themselves (`container prune`, `network create`). */
export const OWN_VERBS: Record<string, string[]> = {
  container: ["prune"],
  image: ["prune", "inspect"],
  network: ["create", "ls", "inspect", "rm"],
};

/** An object's every verb and the command that runs it (for help and completion). */
export function objectVerbs(object: string): Record<string, string> {
  return { ...Object.fromEntries((OWN_VERBS[object] ?? []).map((v) => [v, object])), ...GROUPED[object] };
}

export const OBJECTS = ["container", "image", "network", "system"];

/** `image ls -a` -> `images -a`; anything else unchanged. */
export function ungroup(name: string | undefined, rest: string[]): { name: string | undefined; rest: string[] } {
  const target = name !== undefined ? GROUPED[name]?.[rest[0] ?? ""] : undefined;
  return target !== undefined && target in COMMANDS ? { name: target, rest: rest.slice(1) } : { name, rest };
}


/** Every command, loaded (for help and completion). */
export async function loadAll(): Promise<Record<string, MycrCommand>> {
  const all: Record<string, MycrCommand> = {};
  for (const [name, load] of Object.entries(COMMANDS)) all[name] = (await load()).default;
  return all;
}

export const GLOBAL_ARGS = {
  debug: { type: "boolean", description: "Print debug messages and stack traces" },
  root: { type: "string", description: "Directory for runtime state (default /run/mycr)", valueHint: "DIR" },
  log: { type: "string", description: "Also write messages to this file (OCI clients read it)", valueHint: "FILE" },
  "log-format": { type: "enum", options: ["text", "json"], default: "text", description: "Format of --log" },
  "systemd-cgroup": { type: "boolean", description: "Make each container's cgroup a transient systemd scope (cgroupsPath slice:prefix:name)" },
  help: { type: "boolean", alias: "h", description: "Show help" },
  version: { type: "boolean", alias: "v", description: "Show the version" },
} satisfies ArgsDef;
