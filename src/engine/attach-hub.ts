// The supervisor's side of `mycr attach`: per container, the clients attached to it.
// Output is sent to each as it arrives; a client whose socket cannot take a message
// whole (it stopped reading, its buffer is full) is disconnected, not waited for: the
// supervisor keeps no queue per client, so a slow or vanished client costs nothing.
import type { Socket } from "bun";
import { encodeMessage, type AttachReport, type AttachRequest } from "./supervisor-messages";

const clients = new Map<string, Set<Socket<unknown>>>();

/** Where an attached client's input and window size go: the container's stdin or terminal. */
export interface ContainerInput {
  write(data: Uint8Array): void;
  resize(size: { rows: number; cols: number }): void;
}

const inputs = new Map<string, ContainerInput>();

/** Set by the container's supervision while it runs. */
export function setInput(id: string, input: ContainerInput): void {
  inputs.set(id, input);
}

/** What an attached client sent: to the container (only one started with -i takes input). */
export function receive(id: string, request: AttachRequest): void {
  const input = inputs.get(id);
  if (request.type === "input") input?.write(Buffer.from(request.data, "base64"));
  else if (request.type === "resize") input?.resize({ rows: request.rows, cols: request.cols });
}

/** Adds a client to the container `id`; the returned function removes it. */
export function addAttached(id: string, socket: Socket<unknown>): () => void {
  let set = clients.get(id);
  if (!set) clients.set(id, (set = new Set()));
  set.add(socket);
  return () => {
    set.delete(socket);
    if (set.size === 0 && clients.get(id) === set) clients.delete(id);
  };
}

function send(id: string, report: AttachReport, end = false): void {
  const set = clients.get(id);
  if (!set) return;
  const line = encodeMessage(report);
  const size = Buffer.byteLength(line);
  for (const socket of [...set]) {
    const written = end ? (socket.end(line), size) : socket.write(line);
    if (written < size) {
      set.delete(socket); // too slow or gone: dropped, never buffered for
      socket.terminate();
    }
  }
  if (set.size === 0 || end) clients.delete(id);
}

/** The container's output, to every client attached to it. */
export function sendOutput(id: string, stream: "stdout" | "stderr", chunk: Uint8Array): void {
  if (clients.has(id)) send(id, { type: "output", stream, data: Buffer.from(chunk).toString("base64") });
}

/** The container exited for good: its clients are told the code and let go. */
export function sendExit(id: string, code: number): void {
  inputs.delete(id);
  send(id, { type: "exit", code }, true);
}
