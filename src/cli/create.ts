import { ContainerError } from "../runtime/errors";
import { createContainer } from "../runtime/create";
import { collectAbandoned } from "../engine/gc";
import { log } from "./log";
import { StateStore } from "../runtime/state";
import { single, type ParsedFlags } from "./argv";
import { defineMycrCommand, type GlobalOptions } from "./command";
import { requireId } from "./require-id";

/** Flags `create` and `run --bundle` share with runc. */
export const OCI_CREATE_ARGS = {
  bundle: { type: "string", alias: "b", description: "Bundle directory holding config.json (default: the current directory)", valueHint: "DIR" },
  "pid-file": { type: "string", description: "Write the container's init pid to this file", valueHint: "FILE" },
  "console-socket": { type: "string", description: "Unix socket to receive the terminal's master fd", valueHint: "PATH" },
  "no-pivot": { type: "boolean", description: "Move the root and chroot instead of pivot_root" },
  "no-new-keyring": { type: "boolean", description: "Keep the caller's session keyring" },
  "preserve-fds": { type: "string", description: "Pass this many fds beyond stdio to the container", valueHint: "N" },
} as const;


/** The options `create` and `run --bundle` share beyond the bundle and id. */
export function ociCreateOptions(args: ParsedFlags, global: GlobalOptions) {
  const text = single(args["preserve-fds"]) ?? "0";
  if (!/^\d+$/.test(text)) throw new ContainerError(`--preserve-fds ${text}: must be a number of file descriptors`);
  return {
    pidFile: single(args["pid-file"]),
    consoleSocket: single(args["console-socket"]),
    noPivot: args["no-pivot"] === true,
    preserveFds: Number(text),
    newKeyring: args["no-new-keyring"] !== true,
    cgroupManager: global.systemdCgroup ? ("systemd" as const) : ("cgroupfs" as const),
  };
}

export default defineMycrCommand({
  meta: { name: "create", description: "Create a container from an OCI bundle (OCI runtime)" },
  args: { ...OCI_CREATE_ARGS, id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  rootless: { caller: true }, // as runc: the caller on the host, the config brings its user namespace
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    await createContainer({
      id: requireId(args, "create"),
      bundleDir: single(args.bundle) ?? ".",
      store,
      ...ociCreateOptions(args, global),
    });
    // Created: now, not before, what killed mycr processes left.
    await collectAbandoned(store, (m) => log.warn(m));
    return 0;
  },
});
