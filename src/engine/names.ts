// Checks on --name and -u text, before anything is created.
import { ContainerError } from "../runtime/errors";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkName(name: string): string {
  if (!NAME.test(name) || name.length > 128) {
    throw new ContainerError(`--name "${name}": use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128)`);
  }
  return name;
}

/** USER[:GROUP]: the syntax only; whether they exist is the container's /etc's to say. */
export function checkUser(text: string): string {
  if (!/^[^:\s]+(:[^:\s]+)?$/.test(text)) throw new ContainerError(`-u "${text}": expected USER[:GROUP], names or numbers`);
  return text;
}
