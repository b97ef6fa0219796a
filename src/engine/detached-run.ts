// The run request of a recorded detached container: what its supervisor starts each
// time (./supervise.ts), and what the first `run -d` starts for the supervisor to come
// (./adopt.ts). One place, so both start the same container.
import { StateStore } from "../runtime/state";
import type { DetachedRecord } from "./detached";
import type { DetachedIo, RunRequest } from "./run";

export function detachedRunRequest(rec: DetachedRecord, io: DetachedIo): RunRequest {
  return {
    ...rec.request,
    id: rec.id,
    store: new StateStore(rec.stateRoot),
    detached: true,
    cwd: rec.cwd ?? "/",
    io,
    // Not the supervisor's own stdin: io.stdin (-i) or the terminal, fed by attached
    // clients (./attach-hub.ts); with neither, /dev/null.
    interactive: false,
  };
}
