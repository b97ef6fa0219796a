// Checks on --name and -u text, before anything is created.
import { readdirSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { HOSTNAME_RULE, hostnameProblem } from "../spec/hostname";
import { readDetached } from "./detached";
import { containerDir, containersDir } from "./paths";
import { ownerAlive, readRecord } from "./record";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkName(name: string): string {
  if (!NAME.test(name) || name.length > 128) {
    throw new ContainerError(`--name "${name}": use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128)`);
  }
  return name;
}

/** --hostname: an RFC 1123 host name the kernel takes (see spec/hostname.ts). */
export function checkHostname(name: string): string {
  const problem = hostnameProblem(name);
  if (problem) throw new ContainerError(`--hostname ${JSON.stringify(name)}: ${problem}; use ${HOSTNAME_RULE}`);
  return name;
}

/** USER[:GROUP]: the syntax only; whether they exist is the container's /etc's to say. */
export function checkUser(text: string): string {
  if (!/^[^:\s]+(:[^:\s]+)?$/.test(text)) throw new ContainerError(`-u "${text}": expected USER[:GROUP], names or numbers`);
  return text;
}

/**
 * Fails when another container holds `name`: a detached one until it is removed, a
 * foreground one while its mycr lives. Call it under the engine lock, together with
 * writing the record that claims the name, so two runs cannot both pass the check.
 */
export function assertNameFree(name: string, ownId: string): void {
  let ids: string[] = [];
  try {
    ids = readdirSync(containersDir());
  } catch {
    return;
  }
  for (const id of ids) {
    if (id === ownId) continue;
    const detached = readDetached(id);
    const holder = detached ?? readRecord(containerDir(id));
    if (holder?.name !== name) continue;
    if (detached || ownerAlive(readRecord(containerDir(id)))) {
      throw new ContainerError(`the name "${name}" is already in use by container ${id.slice(0, 12)} (remove it or choose another name)`);
    }
  }
}
