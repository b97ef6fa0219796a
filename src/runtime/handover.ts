// Fds the runtime opens on the host's side and hands to init, after its stdio, the
// sync socket (3), the console socket (4) and the caller's preserved fds: what init could
// not open itself once inside (a user namespace may not even reach the state directory).
import { openSync } from "node:fs";
import { O_CLOEXEC, O_PATH, SYS, close } from "../sys";
import type { Spec } from "../spec/types";
import { prepareIdmappedMounts } from "./idmapped-mounts";
import { PRESERVED_FDS_BASE } from "./init-fd";
import type { InitConfig } from "./messages";
import type { NamespacePlan } from "./namespaces";

export interface Handover {
  /** Ours, in the order init finds them from PRESERVED_FDS_BASE + preserved on. */
  fds: number[];
  /** Where init finds each. */
  config: Pick<InitConfig, "mountNamespaceFd" | "idmappedMounts" | "execFifoFd" | "hostProcFd">;
  /** Once init has them (spawned): ours are closed. */
  close(): void;
}

export function prepareHandover(spec: Spec, bundle: string, plan: NamespacePlan, preserved: number, execFifo: string | null): Handover {
  const fds: number[] = [];
  const config: Handover["config"] = {};
  const hand = (fd: number) => fds.push(fd) - 1 + PRESERVED_FDS_BASE + preserved;
  try {
    // A mount namespace by path: init joins it itself (our binary must be found first).
    if (plan.mountPath !== undefined) config.mountNamespaceFd = hand(openSync(plan.mountPath, "r"));
    // The FIFO `start` opens; init waits on it (runc's exec FIFO). In a user namespace,
    // where init may not make a procfs to reopen it through, the host's /proc too.
    if (execFifo) {
      config.execFifoFd = hand(openSync(execFifo, O_PATH | O_CLOEXEC));
      if (plan.user) config.hostProcFd = hand(openSync("/proc", O_PATH | SYS.O_DIRECTORY | O_CLOEXEC));
    }
    const idmapped = prepareIdmappedMounts(spec, bundle);
    const at = new Map(idmapped.fds.map((fd) => [fd, hand(fd)]));
    if (idmapped.byMount.size > 0) {
      config.idmappedMounts = Object.fromEntries([...idmapped.byMount].map(([mount, k]) => [String(mount), at.get(idmapped.fds[k]!)!]));
    }
  } catch (e) {
    for (const fd of fds) close(fd);
    throw e;
  }
  return { fds, config, close: () => fds.splice(0).forEach(close) };
}
