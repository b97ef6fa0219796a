// The supervisor's wire format, one JSON message a line each way, and a client's
// connection. Loaded by the light clients too (./served-run-client.ts), so it imports
// nothing but Bun's types.
import type { Socket } from "bun";

export function encodeMessage(message: object): string {
  return JSON.stringify(message) + "\n";
}

/** Splits a byte stream into JSON messages, one a line. */
export class MessageLines<T> {
  private text = "";
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): T[] {
    this.text += this.decoder.decode(chunk, { stream: true });
    const lines = this.text.split("\n");
    this.text = lines.pop()!;
    const messages: T[] = [];
    for (const line of lines) {
      try {
        messages.push(JSON.parse(line) as T);
      } catch {
        // not a message of ours: ignored (the other side then times out or closes)
      }
    }
    return messages;
  }
}

/** An open connection to the supervisor: the messages it sends, in order; null once it closed. */
export class SupervisorConnection<T> {
  private readonly queue: (T | null)[] = [];
  private waiter: ((message: T | null) => void) | null = null;
  private readonly lines = new MessageLines<T>();
  socket!: Socket<undefined>;

  deliver(message: T | null): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(message);
    } else this.queue.push(message);
  }

  onData(chunk: Uint8Array): void {
    for (const message of this.lines.push(chunk)) this.deliver(message);
  }

  next(): Promise<T | null> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** Connects to the supervisor's socket at `path`; null when none listens there. */
export async function connect<T>(path: string): Promise<SupervisorConnection<T> | null> {
  const conn = new SupervisorConnection<T>();
  try {
    conn.socket = await Bun.connect({
      unix: path,
      socket: {
        data: (_s, chunk) => conn.onData(chunk),
        close: () => conn.deliver(null),
        error: () => conn.deliver(null),
      },
    });
    return conn;
  } catch {
    return null; // ENOENT, ECONNREFUSED, EACCES: no supervisor, a killed one's socket, not ours
  }
}
