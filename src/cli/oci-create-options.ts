// runc's `create` flags made into the runtime's options, checked once for the CLI's
// `create` and `run --bundle` (./oci-args.ts) and for the light path's `create`
// (./oci-light.ts): both give the same answer to the same words.
import { ContainerError } from "../runtime/errors";

/** The flags as given (a flag left out is undefined or false). */
export interface OciCreateFlags {
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
}

export function ociCreateOptions(flags: OciCreateFlags, systemdCgroup: boolean) {
  const text = flags.preserveFds ?? "0";
  if (!/^\d+$/.test(text)) throw new ContainerError(`--preserve-fds ${text}: must be a number of file descriptors`);
  return {
    pidFile: flags.pidFile,
    consoleSocket: flags.consoleSocket,
    noPivot: flags.noPivot,
    preserveFds: Number(text),
    newKeyring: !flags.noNewKeyring,
    cgroupManager: systemdCgroup ? ("systemd" as const) : ("cgroupfs" as const),
  };
}
