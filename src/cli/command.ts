// The shape of one mycr command: citty's definition (meta + args, used for --help)
// plus how its arguments are parsed and whether it needs root.
import type { ArgsDef, CommandMeta } from "citty";
import type { ParsedFlags, ParseOptions } from "./argv";

export interface GlobalOptions {
  debug: boolean;
  /** runc's --root: where runtime state lives. */
  stateRoot?: string;
  /** --systemd-cgroup: containers' cgroups are systemd scopes. */
  systemdCgroup?: boolean;
}

/**
 * What the command does for an ordinary user (engine/rootless/enter.ts): run as root of
 * a user namespace of its own ("enter"), of the one its container runs in ("join", the
 * container named by the arguments), or refuse in one line. Absent: root only.
 */
export type RootlessMode =
  | "enter"
  | { join: (args: ParsedFlags) => string | undefined }
  | { refuse: string }
  | CallerMode;

/**
 * The OCI runtime face for an ordinary user (docs/rootless.md, "The OCI runtime without
 * root"): the command runs as the caller on the host, as runc and crun do, for a bundle
 * whose config brings its own user namespace. `caller` says when (always, or for these
 * arguments: a container the caller's OCI face made); otherwise `otherwise` applies.
 */
export interface CallerMode {
  caller: true | ((args: ParsedFlags, global: GlobalOptions) => boolean);
  otherwise?: RootlessMode;
}

export interface MycrCommand {
  meta: CommandMeta & { name: string; description: string };
  args: ArgsDef;
  parse?: ParseOptions;
  needsRoot?: boolean;
  rootless?: RootlessMode;
  /** Returns the process exit status. */
  run(args: ParsedFlags, global: GlobalOptions): Promise<number> | number;
}

export function defineMycrCommand(cmd: MycrCommand): MycrCommand {
  return cmd;
}
