// Where the buses are and whether systemd is there to ask: the synchronous checks every
// start makes, kept apart from the D-Bus client (dbus-connection.ts, manager.ts), which
// loads only when a systemd scope is made, changed or stopped.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket";

/** Is systemd PID 1 (its runtime directory exists, sd_booted()'s test) with its bus reachable? */
export function systemdAvailable(): boolean {
  return existsSync("/run/systemd/system") && existsSync(SYSTEM_BUS_SOCKET);
}

/**
 * The user's bus socket: the unix:path= of $DBUS_SESSION_BUS_ADDRESS, else
 * $XDG_RUNTIME_DIR/bus (where dbus-user-session and systemd put it); null when neither
 * names one (an abstract or TCP address is not spoken here).
 */
export function userBusSocket(env: Record<string, string | undefined> = process.env): string | null {
  for (const address of (env.DBUS_SESSION_BUS_ADDRESS ?? "").split(";")) {
    if (!address.startsWith("unix:")) continue;
    const path = address
      .slice("unix:".length)
      .split(",")
      .find((kv) => kv.startsWith("path="));
    if (path) return decodeURIComponent(path.slice("path=".length));
  }
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "bus") : null;
}

/**
 * Our uid as the bus sees it (SO_PEERCRED is read in the bus's user namespace, the
 * host's): a rootless mycr is root of a user namespace, and its uid 0 is the user's.
 */
export function hostUid(uid = process.getuid?.() ?? 0, uidMap = readFileSync("/proc/self/uid_map", "utf8")): number {
  for (const line of uidMap.split("\n")) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
    if (inside !== undefined && outside !== undefined && count !== undefined && uid >= inside && uid < inside + count) return outside + (uid - inside);
  }
  return uid;
}
