// Commands over several containers (stop, rm, kill, wait): each is tried; a failure is
// one line on stderr and the next goes on; any failure makes the status 125.
import { ContainerError } from "../runtime/errors";
import { log } from "./log";

export async function eachContainer(refs: string[], what: string, fn: (ref: string) => Promise<void> | void): Promise<number> {
  if (refs.length === 0) throw new ContainerError(`${what} needs at least one container name or id`);
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (e) {
      failed = true;
      log.error(e instanceof Error ? e.message : String(e));
    }
  }
  return failed ? 125 : 0;
}
