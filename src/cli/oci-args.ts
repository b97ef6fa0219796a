// The flags and checks `create` and `run --bundle` share with runc, apart from either
// command: `mycr run` lists these flags without loading the OCI runtime's create.
import { ContainerError } from "../runtime/errors";
import { single, type ParsedFlags } from "./argv";
import type { GlobalOptions } from "./command";
import { ociCreateOptions as createOptions } from "./oci-create-options";

/** Flags `create` and `run --bundle` share with runc. */
export const OCI_CREATE_ARGS = {
  bundle: { type: "string", alias: "b", description: "Bundle directory holding config.json (default: the current directory)", valueHint: "DIR" },
  "pid-file": { type: "string", description: "Write the container's init pid to this file", valueHint: "FILE" },
  "console-socket": { type: "string", description: "Unix socket to receive the terminal's master fd", valueHint: "PATH" },
  "no-pivot": { type: "boolean", description: "Move the root and chroot instead of pivot_root" },
  "no-new-keyring": { type: "boolean", description: "Keep the caller's session keyring" },
  "preserve-fds": { type: "string", description: "Pass this many fds beyond stdio to the container", valueHint: "N" },
} as const;

export function requireId(args: { _: string[] }, command: string): string {
  const id = args._[0];
  if (!id) throw new ContainerError(`${command} needs a container id`);
  if (args._.length > 1) throw new ContainerError(`${command}: unexpected arguments after the id: ${args._.slice(1).join(" ")}`);
  return id;
}

/** The options `create` and `run --bundle` share beyond the bundle and id. */
export function ociCreateOptions(args: ParsedFlags, global: GlobalOptions) {
  return createOptions(
    {
      pidFile: single(args["pid-file"]),
      consoleSocket: single(args["console-socket"]),
      preserveFds: single(args["preserve-fds"]),
      noPivot: args["no-pivot"] === true,
      noNewKeyring: args["no-new-keyring"] === true,
    },
    global.systemdCgroup === true,
  );
}
