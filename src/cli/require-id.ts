// The id argument of the OCI verbs, in a module of its own: state, start, delete and
// pause need it without loading create's (the whole launch) with it.
import { ContainerError } from "../runtime/errors";

export function requireId(args: { _: string[] }, command: string): string {
  const id = args._[0];
  if (!id) throw new ContainerError(`${command} needs a container id`);
  if (args._.length > 1) throw new ContainerError(`${command}: unexpected arguments after the id: ${args._.slice(1).join(" ")}`);
  return id;
}
