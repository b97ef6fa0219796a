// Where runtime state lives. /run/mycr is gone at reboot, like /run/runc.
import { join } from "node:path";

export function stateRoot(): string {
  return process.env.MYCR_STATE || "/run/mycr";
}

export function containerStateDir(id: string, root = stateRoot()): string {
  return join(root, id);
}
