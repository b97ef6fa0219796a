// Image documents (manifests, indexes, configs, archive metadata) from their bytes.
import { ContainerError } from "../runtime/errors";

/** Parses JSON bytes; `what` names the document in the error. */
export function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new ContainerError(`${what}: not valid JSON`);
  }
}
