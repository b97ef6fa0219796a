// The OCI verbs platforms call for every container, some of them again and again (podman:
// `create`, `start`, `delete --force`; containerd's shim: `create`, `state`, `start`, `kill`, `delete`),
// answered without loading the CLI: its parser, its command table and the docker face's
// container lookup cost 2-5 ms a call (measured), and runc answers these verbs in ~22 ms,
// about what a Bun process costs in all (docs/performance.md, "The OCI verbs' light path").
//
// Only the forms those clients send are taken (./oci-light-call.ts parses them in main.ts,
// before anything loads): run by root, global flags runc has, and a container the OCI face
// made (a state directory named by its exact id, no docker face record). Anything else
// returns null before doing anything, and the CLI answers as it always did, errors included. What the verbs do is the runtime's own code either way.
import { existsSync } from "node:fs";
import { containerDir } from "../engine/paths";
import { isContainerId, ociState, StateStore } from "../runtime/state";
import { setWarningSink } from "../runtime/warn";
import { ociCreateOptions } from "./oci-create-options";
import { messageLine, toLogFile, toStderr } from "./log-lines";
import { out } from "./output";
import type { LightCall } from "./oci-light-call";

/** Runs the call when its container is one this path takes and returns the exit status; otherwise null. */
export async function runLightCall(call: LightCall): Promise<number | null> {
  if (!isContainerId(call.id)) return null;
  let verb: (() => Promise<void> | void) | null;
  try {
    const store = new StateStore(call.root);
    // `create` makes the state directory the others need; a docker face record of that
    // id, or (for create) a container of it, is the CLI's to word
    const exists = existsSync(store.dir(call.id));
    if ((call.verb === "create" ? exists : !exists) || existsSync(containerDir(call.id))) return null;
    verb = await loadVerb(call, store);
  } catch {
    return null; // nothing is done yet: the CLI says what is wrong (no state root, say)
  }
  if (!verb) return null;
  // The log (consola) is loaded only for a failure, which reportError words: loading it
  // costs more than most verbs themselves (docs/performance.md, "A lean light path for the
  // OCI verbs"); warnings are kept until the verb ends.
  const warnings: string[] = [];
  setWarningSink((m) => warnings.push(m));
  let failure: { error: unknown } | null = null;
  try {
    await verb();
  } catch (error) {
    failure = { error };
  }
  if (!failure) {
    // warnings alone are written as the log would write them (./log-lines.ts)
    for (const w of warnings) {
      toStderr(messageLine("warn", w) + "\n");
      if (call.log !== undefined) toLogFile(call.log, call.logFormat, "warn", w);
    }
    return 0;
  }
  const { log, logToFile } = await import("./log");
  if (call.log !== undefined) logToFile(call.log, call.logFormat);
  for (const w of warnings) log.warn(w);
  return (await import("./report-error")).reportError(failure.error, false);
}

/** The verb, ready to run; null for a case the CLI words differently (it then answers). */
async function loadVerb(call: LightCall, store: StateStore): Promise<(() => Promise<void> | void) | null> {
  const { id } = call;
  switch (call.verb) {
    case "create": {
      const flags = call.create!;
      const options = ociCreateOptions(flags, call.systemdCgroup);
      const { ociCreate } = await import("./oci-create");
      return () => ociCreate(store, id, flags.bundle ?? ".", options);
    }
    case "start": {
      const { startContainer } = await import("../runtime/start");
      return () => startContainer(store, id);
    }
    case "state": {
      const record = store.tryLoad(id);
      if (!record) return null; // the CLI says what the container is instead
      return () => out(JSON.stringify(ociState(record), null, 2));
    }
    case "delete": {
      const { deleteContainer } = await import("../runtime/delete");
      return () => deleteContainer(store, id, call.force);
    }
    case "kill": {
      const record = store.tryLoad(id);
      if (!record) return null; // one being created: the CLI words it
      const { killRecorded, parseSignal } = await import("../runtime/kill");
      let signal: number;
      try {
        signal = parseSignal(call.signal ?? "SIGTERM");
      } catch {
        return null; // `kill ID NAME` is the docker face's two containers: the CLI decides
      }
      return () => killRecorded(record, signal, call.all);
    }
  }
}
