// A D-Bus client connection over a unix socket: SASL EXTERNAL authentication (the
// kernel tells the bus our uid through SO_PEERCRED), Hello, then method calls matched to
// their replies by serial. Signals and calls from the bus are ignored: callers poll.
// The system bus, or the user's own (their systemd user manager's, for rootless mycr).
import type { Socket } from "node:net";
import { SYSTEM_BUS_SOCKET, hostUid } from "./bus-address";
import type { DBusValue } from "./dbus-marshal";
import { decodeMessage, encodeMessage, messageLength, MessageType, type Message } from "./dbus-message";

/** An error the bus or the called service returned (e.g. org.freedesktop.systemd1.NoSuchUnit). */
export class DBusCallError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message ? `${errorName}: ${message}` : errorName);
  }
}

export interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
}

interface Pending {
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
}

const CALL_TIMEOUT_MS = 25_000; // the reference implementation's default

export class DBusConnection {
  private serial = 0;
  private buffered: Buffer = Buffer.alloc(0);
  private pending = new Map<number, Pending>();
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("the bus closed the connection")));
  }

  /** Connects, authenticates as our uid (the host's) and says Hello. */
  static async open(path = SYSTEM_BUS_SOCKET): Promise<DBusConnection> {
    // node:net only here: the module is loaded by every command that talks to systemd,
    // and node:net costs ~5-8 ms of CPU to load (docs/performance.md)
    const { connect } = await import("node:net");
    const socket = connect({ path });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (e: NodeJS.ErrnoException) => reject(new Error(`cannot connect to the D-Bus socket ${path}: ${e.code ?? e.message}`)));
    });
    await authenticate(socket);
    const conn = new DBusConnection(socket);
    await conn.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello" });
    return conn;
  }

  /** Calls a method; resolves to the reply's body, rejects with DBusCallError on an error reply. */
  call(c: Call): Promise<DBusValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    const serial = ++this.serial;
    const bytes = encodeMessage({ type: MessageType.MethodCall, serial, ...c, signature: c.signature ?? "", body: c.body ?? [] });
    return new Promise<DBusValue[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(new Error(`D-Bus call ${c.interface}.${c.member} got no reply in ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(serial, {
        resolve: (m) => {
          clearTimeout(timer);
          if (m.type === MessageType.Error) reject(new DBusCallError(m.errorName ?? "error", typeof m.body[0] === "string" ? m.body[0] : ""));
          else resolve(m.body);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.failure ??= new Error("connection closed");
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      let need: number | null;
      try {
        need = messageLength(this.buffered);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      if (need === null || this.buffered.length < need) return;
      const bytes = this.buffered.subarray(0, need);
      this.buffered = this.buffered.subarray(need);
      let m: Message;
      try {
        m = decodeMessage(Buffer.from(bytes));
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      if ((m.type === MessageType.MethodReturn || m.type === MessageType.Error) && m.replySerial !== undefined) {
        const p = this.pending.get(m.replySerial);
        this.pending.delete(m.replySerial);
        p?.resolve(m);
      }
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

/** SASL: a NUL byte, AUTH EXTERNAL with our host uid in hex-encoded ASCII, OK, BEGIN. */
async function authenticate(socket: Socket): Promise<void> {
  const uid = String(hostUid());
  const hexUid = Buffer.from(uid, "ascii").toString("hex");
  const line = await new Promise<string>((resolve, reject) => {
    let got = "";
    const onData = (chunk: Buffer) => {
      got += chunk.toString("ascii");
      const end = got.indexOf("\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      resolve(got.slice(0, end));
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(`\0AUTH EXTERNAL ${hexUid}\r\n`);
  });
  if (!line.startsWith("OK ")) throw new Error(`the bus refused authentication as uid ${uid}: ${line}`);
  socket.write("BEGIN\r\n");
}
