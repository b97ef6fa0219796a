// D-Bus messages: the fixed header, the header fields, the body; encoded and decoded.
import { DBusError, Reader, Variant, Writer, splitSignature, type DBusValue } from "./dbus-marshal";

export const enum MessageType {
  MethodCall = 1,
  MethodReturn = 2,
  Error = 3,
  Signal = 4,
}

/** Header field codes (the D-Bus specification's table). */
const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8 } as const;
const FIELD_SIG: Record<number, string> = { 1: "o", 2: "s", 3: "s", 4: "s", 5: "u", 6: "s", 7: "s", 8: "g" };

export interface Message {
  type: MessageType;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature: string;
  body: DBusValue[];
}

/** The flag that says no reply is wanted. */
const NO_REPLY_EXPECTED = 0x1;

export function encodeMessage(m: Message, noReply = false): Buffer {
  const body = new Writer();
  const types = m.signature;
  if (types) {
    const parts = splitSignature(types);
    if (parts.length !== m.body.length) throw new DBusError(`signature "${types}" wants ${parts.length} values, got ${m.body.length}`);
    parts.forEach((t, i) => body.write(t, m.body[i]!));
  }
  const fields: DBusValue[] = [];
  for (const [name, code] of Object.entries(FIELD) as Array<[keyof typeof FIELD, number]>) {
    const v = name === "signature" ? (types || undefined) : m[name];
    if (v !== undefined) fields.push([code, new Variant(FIELD_SIG[code]!, v)]);
  }
  const head = new Writer();
  head.write("y", "l".charCodeAt(0));
  head.write("y", m.type);
  head.write("y", noReply ? NO_REPLY_EXPECTED : 0);
  head.write("y", 1); // protocol version
  head.write("u", body.length);
  head.write("u", m.serial);
  head.write("a(yv)", fields);
  head.align(8);
  return Buffer.concat([head.bytes(), body.bytes()]);
}

/** Bytes `buf` needs to hold one whole message, once its first 16 are there; else null. */
export function messageLength(buf: Buffer): number | null {
  if (buf.length < 16) return null;
  if (buf[0] !== "l".charCodeAt(0)) throw new DBusError("big-endian messages are not supported");
  const bodyLength = buf.readUInt32LE(4);
  const fieldsLength = buf.readUInt32LE(12);
  const headerEnd = 16 + fieldsLength;
  return headerEnd + ((8 - (headerEnd % 8)) % 8) + bodyLength;
}

export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf, 12);
  const fields = r.read("a(yv)") as Array<[number, Variant]>;
  const m: Message = { type: buf[1] as MessageType, serial: buf.readUInt32LE(8), signature: "", body: [] };
  for (const [code, v] of fields) {
    const name = (Object.keys(FIELD) as Array<keyof typeof FIELD>).find((k) => FIELD[k] === code);
    if (name === "replySerial") m.replySerial = v.value as number;
    else if (name) (m as unknown as Record<string, unknown>)[name] = v.value;
  }
  r.offset += (8 - (r.offset % 8)) % 8;
  if (m.signature) m.body = r.readAll(m.signature);
  return m;
}
