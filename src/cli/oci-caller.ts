// Which face an ordinary user's `start`, `kill`, `exec` and `ps ID` speak to: the OCI
// runtime's, run as the caller on the host (a container its own `create` made, or any
// under a --root it names), or the docker face's, run in mycr's user namespace (a
// container `mycr run` made: it has an engine record in the user's storage).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ParsedFlags } from "./argv";
import type { GlobalOptions } from "./command";
import { containerDir } from "../engine/paths";
import { rootlessRoots } from "../engine/rootless/roots";

export function callersOciContainer(args: ParsedFlags, global: GlobalOptions): boolean {
  if (global.stateRoot !== undefined) return true; // --root: runc's flag, given by OCI clients
  const ref = args._[0];
  if (ref === undefined) return false;
  let roots;
  try {
    roots = rootlessRoots(process.env, process.getuid?.() ?? -1);
  } catch {
    return false; // the docker face says what is missing
  }
  return existsSync(join(roots.state, ref, "state.json")) && !existsSync(containerDir(ref, roots.data));
}
