// `create` as runc has it, one function for the CLI's command (./create.ts) and the OCI
// verbs' light path (./oci-light.ts), so the two cannot drift apart.
import { createContainer } from "../runtime/create";
import { collectAbandoned } from "../engine/gc";
import { warn } from "../runtime/warn";
import type { StateStore } from "../runtime/state";
import type { ociCreateOptions } from "./oci-create-options";

export async function ociCreate(store: StateStore, id: string, bundleDir: string, options: ReturnType<typeof ociCreateOptions>): Promise<void> {
  await createContainer({ id, bundleDir, store, ...options });
  // Created: now, not before, what killed mycr processes left.
  await collectAbandoned(store, warn);
}
