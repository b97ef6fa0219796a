// --console-socket: the OCI way to hand a container's terminal to its client (podman's
// conmon, containerd's shim): the master fd goes over a unix socket as SCM_RIGHTS.
import { close, connectUnix, sendFd } from "../sys";
import { ContainerError } from "./errors";

export function sendConsole(socketPath: string, master: number): void {
  let sock: number;
  try {
    sock = connectUnix(socketPath);
  } catch (e) {
    throw new ContainerError(`--console-socket ${socketPath}: ${(e as Error).message}`);
  }
  try {
    sendFd(sock, master);
  } finally {
    close(sock);
    close(master);
  }
}

/** runc's rule: a detached container with a terminal needs someone to hold the terminal. */
export function requireConsoleSocket(terminal: boolean, consoleSocket: string | undefined, what: string): void {
  if (terminal && !consoleSocket) {
    throw new ContainerError(`${what}: process.terminal is true, so --console-socket is needed to receive the terminal`);
  }
  if (!terminal && consoleSocket) {
    throw new ContainerError(`${what}: --console-socket given but process.terminal is false`);
  }
}
