// The defaults a container gets when nobody says otherwise: the mounts every Linux
// program expects, the namespaces that make it a container.
import { OCI_VERSION, type Mount, type Namespace, type Spec } from "./types";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function defaultMounts(): Mount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  ];
}

export function defaultNamespaces(): Namespace[] {
  return [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "cgroup" }];
}

/** A complete spec for running `args` as root in `rootfs`. */
export function defaultSpec(args: string[] = ["sh"], rootfs = "rootfs"): Spec {
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: [`PATH=${DEFAULT_PATH}`, "HOME=/root"],
      cwd: "/",
      noNewPrivileges: false,
    },
    root: { path: rootfs, readonly: false },
    hostname: "mycr",
    mounts: defaultMounts(),
    linux: { namespaces: defaultNamespaces() },
  };
}

/**
 * `spec --rootless`: the default made for an ordinary user's OCI face (as `runc spec
 * --rootless`): a user namespace where root is the caller's own uid and gid, which the
 * caller may map without help; no tty group (5 is not mapped). Unlike runc's, it keeps a
 * network namespace of its own (loopback only, and sysfs may be mounted for it) and a
 * cgroup namespace (the cgroup mount then works in the user namespace).
 */
export function makeRootless(spec: Spec, uid: number, gid: number): Spec {
  const linux = spec.linux ?? {};
  linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== "user"), { type: "user" }];
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  spec.linux = linux;
  for (const m of spec.mounts ?? []) if (m.type === "devpts") m.options = (m.options ?? []).filter((o) => o !== "gid=5");
  return spec;
}
