// Paths under /proc and /sys that would tell a container about the host or let it
// act on the host's kernel: hidden (masked) or read-only, as docker does.

/** Hidden: /dev/null over files, an empty read-only tmpfs over directories. */
export const DEFAULT_MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore", // the host's physical memory
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap", // energy counters: a side channel (PLATYPUS)
];

/** Read-only: kernel-wide settings that namespaces do not cover. */
export const DEFAULT_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
