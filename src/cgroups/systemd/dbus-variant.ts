// The JS values D-Bus messages carry, apart from the wire format (dbus-marshal.ts): what
// checks the annotations' properties at every start needs, without the D-Bus client.

/** A variant's value with the signature it is sent with. */
export class Variant {
  constructor(
    readonly signature: string,
    readonly value: DBusValue,
  ) {}
}

export type DBusValue = string | number | bigint | boolean | Variant | DBusValue[];
