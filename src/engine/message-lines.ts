// The supervisor's wire format: one JSON message a line, each way. Loaded by the light
// clients too (./served-run-client.ts), so it imports nothing.

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
