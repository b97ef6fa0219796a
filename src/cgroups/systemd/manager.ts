// The few calls to systemd's manager (org.freedesktop.systemd1) a cgroup driver needs:
// start a transient scope, change its properties, stop it, and wait for each to happen.
// The system's manager (PID 1, on the system bus) or the user's (user@UID.service, on
// the user's bus), which a rootless mycr asks for a scope in the cgroup delegated to it.
import { SYSTEM_BUS_SOCKET, userBusSocket } from "./bus-address";
import { DBusCallError, DBusConnection } from "./dbus-connection";
import { Variant, type DBusValue } from "./dbus-marshal";
import type { Property } from "./properties";

const SYSTEMD = "org.freedesktop.systemd1";
const MANAGER_PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const NO_SUCH_UNIT = "org.freedesktop.systemd1.NoSuchUnit";
const JOB_WAIT_MS = 30_000;

/** Whose manager: the system's or the user's own. */
export type SystemdBus = "system" | "user";

function busSocket(bus: SystemdBus): string {
  if (bus === "system") return SYSTEM_BUS_SOCKET;
  const path = userBusSocket();
  if (!path) throw new Error("neither DBUS_SESSION_BUS_ADDRESS (unix:path=) nor XDG_RUNTIME_DIR names the user's bus");
  return path;
}

export class SystemdManager {
  private constructor(private readonly bus: DBusConnection) {}

  static async connect(bus: SystemdBus = "system"): Promise<SystemdManager> {
    return new SystemdManager(await DBusConnection.open(busSocket(bus)));
  }

  /** The manager's own cgroup (for a user's, user@UID.service's: what is delegated to it). */
  async rootCgroup(): Promise<string> {
    const root = await this.property(MANAGER_PATH, MANAGER, "ControlGroup");
    return typeof root === "string" && root !== "" ? root : "/";
  }

  close(): void {
    this.bus.close();
  }

  private manager(member: string, signature = "", body: DBusValue[] = []) {
    return this.bus.call({ destination: SYSTEMD, path: MANAGER_PATH, interface: MANAGER, member, signature, body });
  }

  /** Starts a transient unit (mode "replace") and waits until it is active; throws if it failed. */
  async startTransient(unit: string, props: Property[]): Promise<void> {
    await this.manager("StartTransientUnit", "ssa(sv)a(sa(sv))", [unit, "replace", props, []]);
    const state = await this.waitState(unit, (s) => s !== "activating" && s !== "inactive");
    if (state !== "active") {
      await this.resetFailed(unit);
      throw new Error(`systemd could not start ${unit}: it is ${state ?? "gone"}`);
    }
  }

  /** SetUnitProperties with runtime=true: until reboot, not written to /etc. */
  async setProperties(unit: string, props: Property[]): Promise<void> {
    if (props.length > 0) await this.manager("SetUnitProperties", "sba(sv)", [unit, true, props]);
  }

  /** Stops the unit and waits until systemd has unloaded it (or left it failed, then reset). */
  async stop(unit: string): Promise<void> {
    try {
      await this.manager("StopUnit", "ss", [unit, "replace"]);
    } catch (e) {
      if (!(e instanceof DBusCallError && e.errorName === NO_SUCH_UNIT)) throw e;
    }
    const state = await this.waitState(unit, (s) => s === "inactive" || s === "failed");
    if (state === "failed") await this.resetFailed(unit);
  }

  async resetFailed(unit: string): Promise<void> {
    try {
      await this.manager("ResetFailedUnit", "s", [unit]);
    } catch (e) {
      if (!(e instanceof DBusCallError && e.errorName === NO_SUCH_UNIT)) throw e;
    }
  }

  /** The unit's ActiveState, or null when systemd has no such unit loaded. */
  async activeState(unit: string): Promise<string | null> {
    return (await this.unitProperty(unit, "org.freedesktop.systemd1.Unit", "ActiveState")) as string | null;
  }

  /** The scope's cgroup path (e.g. /system.slice/mycr-x.scope), or null when gone. */
  async controlGroup(unit: string): Promise<string | null> {
    return (await this.unitProperty(unit, "org.freedesktop.systemd1.Scope", "ControlGroup")) as string | null;
  }

  private async unitProperty(unit: string, iface: string, name: string): Promise<unknown> {
    let path: string;
    try {
      [path] = (await this.manager("GetUnit", "s", [unit])) as [string];
    } catch (e) {
      if (e instanceof DBusCallError && e.errorName === NO_SUCH_UNIT) return null;
      throw e;
    }
    return this.property(path, iface, name);
  }

  private async property(path: string, iface: string, name: string): Promise<unknown> {
    const [v] = await this.bus.call({ destination: SYSTEMD, path, interface: "org.freedesktop.DBus.Properties", member: "Get", signature: "ss", body: [iface, name] });
    return v instanceof Variant ? v.value : null;
  }

  /** Polls ActiveState until `done` says so (null: unit gone, which is done too). */
  private async waitState(unit: string, done: (state: string) => boolean): Promise<string | null> {
    const deadline = Date.now() + JOB_WAIT_MS;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      const state = await this.activeState(unit);
      if (state === null || done(state)) return state;
      if (Date.now() > deadline) throw new Error(`systemd: ${unit} still ${state} after ${JOB_WAIT_MS / 1000} s`);
      await Bun.sleep(delay);
    }
  }
}

/** Runs `fn` with a connection to systemd (the system's or the user's), closed afterwards. */
export async function withSystemd<T>(fn: (m: SystemdManager) => Promise<T>, bus: SystemdBus = "system"): Promise<T> {
  let m: SystemdManager;
  try {
    m = await SystemdManager.connect(bus);
  } catch (e) {
    throw new Error(`the systemd cgroup manager needs ${bus === "system" ? "systemd's bus" : "your systemd user manager's bus"}: ${(e as Error).message}`);
  }
  try {
    return await fn(m);
  } finally {
    m.close();
  }
}
