// Every field of runtime-spec v1.2's config.json (Linux) and what mycr does with it,
// on cgroup v1 (and hybrid) hosts and on pure cgroup v2 hosts. One source for
// `mycr features` and for docs/oci.md (a test holds the two to it): a field is applied,
// applied where the host's kernel can (refused with one line naming it where not), or
// refused. Nothing is accepted and ignored, except what the spec itself reserves for
// another OS.

export type Support = "applied" | "where the host can" | "refused" | "Windows only";

export interface FieldSupport {
  path: string;
  v1: Support;
  v2: Support;
  /** How it is applied, or why refused. */
  how: string;
}

const A: Support = "applied";
const H: Support = "where the host can";
const R: Support = "refused";

function f(path: string, v1: Support, v2: Support, how: string): FieldSupport {
  return { path, v1, v2, how };
}

export const FIELDS: FieldSupport[] = [
  f("ociVersion", A, A, "required; any 1.x config is read"),
  f("root.path", A, A, "must be a directory"),
  f("root.readonly", A, A, "the root is remounted read-only after the mounts"),
  f("mounts[].destination", A, A, "created inside the root, resolved without leaving it"),
  f("mounts[].source", A, A, ""),
  f("mounts[].type", A, A, "bind, any filesystem type the kernel has; `cgroup` shows the container's own cgroups"),
  f("mounts[].options", A, A, "the flags and propagation listed by `mycr features`; anything else is filesystem data, which a bind mount cannot take: refused there"),
  f("mounts[].uidMappings", A, A, "an idmapped bind mount (mount_setattr MOUNT_ATTR_IDMAP, made by the runtime); refused on other mount types or without gidMappings"),
  f("mounts[].gidMappings", A, A, "with uidMappings: an idmapped bind mount"),
  f("process.terminal", A, A, "pty from the container's /dev/ptmx; master sent to --console-socket"),
  f("process.consoleSize", A, A, ""),
  f("process.cwd", A, A, "created if missing"),
  f("process.env", A, A, ""),
  f("process.args", A, A, ""),
  f("process.commandLine", R, R, "Windows only; use process.args"),
  f("process.user.uid", A, A, ""),
  f("process.user.gid", A, A, ""),
  f("process.user.umask", A, A, ""),
  f("process.user.additionalGids", A, A, ""),
  f("process.user.username", "Windows only", "Windows only", "the spec reserves it for Windows; not read"),
  f("process.capabilities", A, A, "all five sets"),
  f("process.rlimits", A, A, "setrlimit before the user switch"),
  f("process.noNewPrivileges", A, A, ""),
  f("process.oomScoreAdj", A, A, ""),
  f("process.apparmorProfile", H, H, "`exec PROFILE` written to /proc/thread-self/attr/apparmor/exec before execve; refused when AppArmor is not enabled"),
  f("process.selinuxLabel", H, H, "written to /proc/thread-self/attr/exec before execve; refused when SELinux is not enabled"),
  f("process.ioPriority", A, A, "ioprio_set before execve"),
  f("process.scheduler", A, A, "sched_setattr before execve; the UTIL_CLAMP flags are refused (the spec has no values for them)"),
  f("process.execCPUAffinity.initial", R, R, "the affinity of mycr's own process before it joins the cgroup: not supported"),
  f("process.execCPUAffinity.final", A, A, "sched_setaffinity before execve"),
  f("hostname", A, A, "needs a UTS namespace of its own (refused otherwise)"),
  f("domainname", A, A, "needs a UTS namespace of its own (refused otherwise)"),
  f("hooks.prestart", A, A, ""),
  f("hooks.createRuntime", A, A, ""),
  f("hooks.createContainer", A, A, ""),
  f("hooks.startContainer", A, A, ""),
  f("hooks.poststart", A, A, ""),
  f("hooks.poststop", A, A, ""),
  f("annotations", A, A, "kept in the state; the ones mycr reads are listed by `mycr features`; `org.systemd.property.*` are extra properties of the container's scope with the systemd cgroup manager (docs/systemd.md), refused with the cgroupfs one"),
  f("linux.namespaces", A, A, "pid, network, mount, ipc, uts, cgroup, user, time, new or joined by path; without a mount namespace the spec's mounts go into the runtime's and are removed on delete"),
  f("linux.uidMappings", A, A, "written to the new user namespace's uid_map before init runs; needs a new user namespace (refused otherwise)"),
  f("linux.gidMappings", A, A, "written to the new user namespace's gid_map before init runs"),
  f("linux.timeOffsets", A, A, "monotonic and boottime, written to timens_offsets before the first process enters; needs a new time namespace (refused otherwise)"),
  f("linux.devices", A, A, "made with mknod inside the container's /dev"),
  f("linux.cgroupsPath", A, A, "absolute or relative to mycr's own cgroup; with --systemd-cgroup `slice:prefix:name`, a transient scope (docs/systemd.md)"),
  f("linux.resources.devices", A, A, "v1: devices.allow/deny; v2: an eBPF device program"),
  f("linux.resources.memory.limit", A, A, "memory.limit_in_bytes / memory.max"),
  f("linux.resources.memory.reservation", A, A, "memory.soft_limit_in_bytes / memory.low"),
  f("linux.resources.memory.swap", H, H, "memory.memsw.limit_in_bytes / memory.swap.max: needs swap accounting"),
  f("linux.resources.memory.kernel", H, R, "memory.kmem.limit_in_bytes, read back: Linux 5.16 and later ignore what is written there, so it is refused; v2 has no kernel memory limit"),
  f("linux.resources.memory.kernelTCP", H, R, "memory.kmem.tcp.limit_in_bytes; v2 has no such limit"),
  f("linux.resources.memory.swappiness", H, R, "memory.swappiness; v2 has no per-cgroup swappiness"),
  f("linux.resources.memory.disableOOMKiller", H, R, "memory.oom_control; v2 cannot disable the OOM killer (false is accepted: the default)"),
  f("linux.resources.memory.useHierarchy", H, A, "memory.use_hierarchy (newer kernels only take true); v2 is always hierarchical: true accepted, false refused"),
  f("linux.resources.memory.checkBeforeUpdate", A, A, "update refuses a memory limit below the current usage"),
  f("linux.resources.cpu.shares", A, A, "cpu.shares / cpu.weight (runc's conversion; 0 is \"not set\", as docker sends it)"),
  f("linux.resources.cpu.quota", A, A, "cpu.cfs_quota_us / cpu.max"),
  f("linux.resources.cpu.period", A, A, "cpu.cfs_period_us / cpu.max"),
  f("linux.resources.cpu.burst", H, H, "cpu.cfs_burst_us / cpu.max.burst (Linux 5.14)"),
  f("linux.resources.cpu.realtimeRuntime", H, R, "cpu.rt_runtime_us (kernels with RT group scheduling); v2 has no real-time budget"),
  f("linux.resources.cpu.realtimePeriod", H, R, "cpu.rt_period_us; v2 has no real-time budget"),
  f("linux.resources.cpu.cpus", A, A, "cpuset.cpus"),
  f("linux.resources.cpu.mems", A, A, "cpuset.mems"),
  f("linux.resources.cpu.idle", H, H, "cpu.idle (Linux 5.15)"),
  f("linux.resources.pids.limit", A, A, "pids.max"),
  f("linux.resources.blockIO.weight", H, H, "blkio.weight or blkio.bfq.weight / io.bfq.weight or io.weight: needs a proportional I/O scheduler (CFQ or BFQ); 0 is \"not set\", as docker sends it"),
  f("linux.resources.blockIO.leafWeight", H, R, "blkio.leaf_weight (CFQ only, kernels before 5.0); v2 has none"),
  f("linux.resources.blockIO.weightDevice[].weight", H, H, "blkio.weight_device or blkio.bfq.weight_device / io.bfq.weight or io.weight, \"MAJ:MIN W\""),
  f("linux.resources.blockIO.weightDevice[].leafWeight", H, R, "blkio.leaf_weight_device (CFQ only); v2 has none"),
  f("linux.resources.blockIO.throttleReadBpsDevice", H, H, "blkio.throttle.read_bps_device / io.max rbps"),
  f("linux.resources.blockIO.throttleWriteBpsDevice", H, H, "blkio.throttle.write_bps_device / io.max wbps"),
  f("linux.resources.blockIO.throttleReadIOPSDevice", H, H, "blkio.throttle.read_iops_device / io.max riops"),
  f("linux.resources.blockIO.throttleWriteIOPSDevice", H, H, "blkio.throttle.write_iops_device / io.max wiops"),
  f("linux.resources.hugepageLimits", H, H, "hugetlb.SIZE.limit_in_bytes / hugetlb.SIZE.max: needs the hugetlb controller"),
  f("linux.resources.network.classID", H, R, "net_cls.classid: needs the net_cls controller; v2 has none"),
  f("linux.resources.network.priorities", H, R, "net_prio.ifpriomap: needs the net_prio controller; v2 has none"),
  f("linux.resources.rdma", H, H, "rdma.max: needs the rdma controller"),
  f("linux.resources.unified", R, A, "files of the cgroup v2 tree, written as given"),
  f("linux.intelRdt", R, R, "resctrl is not supported by mycr"),
  f("linux.personality.domain", A, A, "personality(2): LINUX or LINUX32"),
  f("linux.personality.flags", R, R, "the spec defines no flag names"),
  f("linux.sysctl", A, A, "namespaced parameters only; a host-wide one is refused"),
  f("linux.seccomp", A, A, "libseccomp; flags, architectures, errnoRet"),
  f("linux.seccomp.listenerPath", R, R, "seccomp agents (SCMP_ACT_NOTIFY) are not supported"),
  f("linux.seccomp.listenerMetadata", R, R, "seccomp agents are not supported"),
  f("linux.rootfsPropagation", A, A, ""),
  f("linux.maskedPaths", A, A, ""),
  f("linux.readonlyPaths", A, A, ""),
  f("linux.mountLabel", H, H, "`context=` on the container's filesystem mounts; refused when SELinux is not enabled"),
];

/** Fields a newer runtime-spec added: refused, so a newer client's request is never dropped. */
export const NEWER_FIELDS = ["linux.netDevices", "linux.memoryPolicy"];
