// The native init's plan (MYCR_INIT=native; docs/performance.md, "Design of the native
// init"): everything Bun's init would do inside the container, decided here in the
// runtime, as steps the C child (sys/native-steps.ts) only executes. What the plan does
// not cover is refused with the reason, and launch falls back to Bun's init: never a guess.
// The order is init.ts's: mounts, pivot_root, the root finished, keyring, user, security.
import { existsSync } from "node:fs";
import { basename, dirname, posix } from "node:path";
import { CLONE, MS, NativePty, S_IFBLK, S_IFCHR, S_IFIFO, execStub, windowStartInProgress, type InRoot, type SpawnStep } from "../sys";
import { hostCgroups } from "../cgroups/hierarchy";
import type { Device, Mount, Spec } from "../spec/types";
import { INIT_ANNOTATION, USER_ANNOTATION } from "./annotations";
import type { NamespacePlan } from "./namespaces";
import { isHostRoot } from "./rootless";
import { isBindMount, parseMountOptions, propagationFlags } from "./rootfs/mount-options";
import { DEFAULT_DEVICES, DEV_LINKS } from "./rootfs/devices";
import { bindSource } from "./rootfs/mounts";
import { stubRefusal } from "./exec-stub-fit";
import { processSteps } from "./native-process-steps";

type Step = SpawnStep;

export interface NativePlan {
  /** On our thread, in the new namespaces, before the clone. */
  window: Step[];
  /** In the child after "go" (it is in its cgroup then), up to execve. */
  child: Step[];
  cloneFlags: number;
  argv: string[];
  env: string[];
  /** With process.terminal: the pty the window opens (its master is the caller's). */
  pty?: NativePty;
}

export interface NativeContext {
  id: string;
  rootfs: string;
  bundle: string;
  newKeyring: boolean;
  seccompCacheDir: string;
  /** `create`: the child waits for `start` once set up (our O_PATH fd of the exec fifo, which it reopens). */
  waitForStart?: { fifoFd: number };
}

/** The C places at most 64 fds (place_fds): stdio and the preserved ones. */
export const MAX_PRESERVED_FDS = 61;

/** The PID namespace is made by clone (never unshared on our thread), the cgroup namespace by the child after "go". */
const WINDOW_FLAGS = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET;

/** Why the native init cannot start this container (Bun's init can), or null. */
export function nativeRefusal(spec: Spec, plan: NamespacePlan, launch: { startImmediately: boolean; preserveFds: number; noPivot: boolean }): string | null {
  const proc = spec.process;
  const linux = spec.linux;
  if (!proc) return "no process";
  if (launch.preserveFds > MAX_PRESERVED_FDS) return `--preserve-fds over ${MAX_PRESERVED_FDS}`;
  if (!launch.startImmediately) {
    // create's child starts its program through the stub, which takes fd 3 for its own
    if (launch.preserveFds > 0) return "--preserve-fds with create (the exec stub's fd 3)";
    const stub = stubRefusal(spec);
    if (stub) return stub;
  }
  if (launch.noPivot) return "--no-pivot";
  // One at a time per process (the C child runs on one stack until it exec'd): the supervisor's concurrent starts
  if (windowStartInProgress()) return "a second start while one is in progress in this process";
  if (plan.joins.length > 0 || plan.mountPath !== undefined) return "a namespace given by path";
  if (plan.user || plan.time) return "a user or time namespace";
  // Without root over the host our thread could leave its namespaces but not come back.
  if (!isHostRoot()) return "a caller without root over the host";
  if (plan.sharesMounts || !(plan.unshareFlags & CLONE.NEWPID)) return "no mount or PID namespace of its own";
  if (proc.terminal && !(spec.mounts ?? []).some((m) => m.destination === "/dev/pts" && m.type === "devpts")) return "a terminal without a devpts at /dev/pts";
  if (spec.hooks?.createContainer?.length || spec.hooks?.startContainer?.length) return "hooks that run in the container";
  if (spec.annotations?.[INIT_ANNOTATION] === "true") return "--init";
  if (spec.annotations?.[USER_ANNOTATION] !== undefined) return "a user name to look up in the container";
  if (proc.apparmorProfile || proc.selinuxLabel || proc.ioPriority || proc.scheduler || proc.execCPUAffinity) return "process attributes";
  if (linux?.personality || linux?.sysctl && Object.keys(linux.sysctl).length > 0 || linux?.mountLabel) return "linux.personality, sysctl or mountLabel";
  if (linux?.seccomp?.listenerPath) return "a seccomp agent";
  for (const m of spec.mounts ?? []) {
    const refused = mountRefusal(m, plan);
    if (refused) return `mount ${m.destination}: ${refused}`;
  }
  const cgroupMounts = (spec.mounts ?? []).filter((m) => m.type === "cgroup").length;
  if (cgroupMounts > 1) return "more than one cgroup mount";
  if (cgroupMounts > 0 && !(spec.mounts ?? []).some((m) => m.type === "proc")) return "a cgroup mount without /proc";
  return null;
}

function mountRefusal(m: Mount, plan: NamespacePlan): string | null {
  if (m.uidMappings || m.gidMappings) return "idmapped";
  if (!m.destination.startsWith("/") || m.destination.split("/").some((p) => p === "..")) return "not a clean absolute path";
  if (isBindMount(m)) return null;
  if (m.type === "sysfs" && !(plan.unshareFlags & CLONE.NEWNET)) return "sysfs without a network namespace";
  if (m.type === "overlay" && parseMountOptions(m.options).data.length > 4095) return "overlay options over one page";
  if (m.type === "proc" && m.destination !== "/proc") return "proc elsewhere than /proc";
  const known = ["proc", "tmpfs", "devpts", "mqueue", "sysfs", "cgroup", "overlay"];
  return known.includes(m.type ?? "") ? null : `type ${m.type ?? "none"}`;
}

/** A container path as the C takes it: relative, clean. */
function inRoot(root: string, path: string): InRoot {
  return { root, path: posix.normalize(path).replace(/^\/+/, "").replace(/\/+$/, "").replace(/^\.$/, "") };
}

function makedev(major: number, minor: number): number {
  return Number(((BigInt(major) & 0xfffff000n) << 32n) | ((BigInt(major) & 0xfffn) << 8n) | ((BigInt(minor) & 0xffffff00n) << 12n) | (BigInt(minor) & 0xffn));
}

const TYPE_BITS: Record<Device["type"], number> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };

/** rootfs/devices.ts's populateDev as steps: default and spec devices, the standard links. */
function devices(rootfs: string, spec: Spec): Step[] {
  const steps: Step[] = [];
  const seen = new Set<string>();
  for (const d of [...(spec.linux?.devices ?? []), ...DEFAULT_DEVICES]) {
    if (seen.has(d.path)) continue;
    seen.add(d.path);
    steps.push({
      op: "mknodIn", what: `mknod ${d.path}`, dir: inRoot(rootfs, dirname(d.path)), name: basename(d.path),
      mode: TYPE_BITS[d.type] | ((d.fileMode ?? 0o666) & 0o7777), dev: makedev(d.major ?? 0, d.minor ?? 0),
      uid: d.uid ?? 0, gid: d.gid ?? 0, bindIfRefused: existsSync(d.path) ? d.path : null, skipIfPresent: DEFAULT_DEVICES.includes(d),
    });
  }
  const links = existsSync("/proc/kcore") ? [...DEV_LINKS, ["/proc/kcore", "/dev/core"] as [string, string]] : DEV_LINKS;
  for (const [target, path] of links) steps.push({ op: "symlinkIn", what: `symlink ${path}`, dir: inRoot(rootfs, dirname(path)), name: basename(path), target });
  return steps;
}

/** The spec's mounts: most in the window, /proc and the cgroup hierarchies by the child. */
function mounts(ctx: NativeContext, spec: Spec): { window: Step[]; child: Step[] } {
  const window: Step[] = [];
  const child: Step[] = [];
  for (const m of spec.mounts ?? []) {
    const opts = parseMountOptions(m.options);
    const at = inRoot(ctx.rootfs, m.destination);
    const what = `mount ${m.destination}`;
    let kind: "dir" | "file" = "dir";
    if (isBindMount(m)) {
      const { source, isDir } = bindSource(m, ctx.bundle);
      kind = isDir ? "dir" : "file";
      window.push({ op: "mountIn", what, source, at, fstype: null, flags: MS.BIND | (opts.flags & MS.REC), data: null, kind });
      const extra = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
      if (extra !== 0) window.push({ op: "mountIn", what, source: null, at, fstype: null, flags: MS.BIND | MS.REMOUNT | extra, data: null, kind });
    } else if (m.type === "proc") {
      child.unshift({ op: "mkdir", what, path: "/proc" }, { op: "mount", what, source: m.source ?? "proc", target: "/proc", fstype: "proc", flags: opts.flags, data: opts.data || null });
      continue;
    } else if (m.type === "cgroup") {
      child.push(...cgroupMount(m.destination, opts.flags, window, ctx.rootfs));
      continue;
    } else {
      window.push({ op: "mountIn", what, source: m.source ?? m.type!, at, fstype: m.type!, flags: opts.flags, data: opts.data || null, kind });
    }
    for (const p of opts.propagation) window.push({ op: "mountIn", what, source: null, at, fstype: null, flags: p, data: null, kind });
  }
  const devIsOurs = (spec.mounts ?? []).some((m) => m.destination === "/dev" && !isBindMount(m));
  if (devIsOurs) window.push(...devices(ctx.rootfs, spec));
  return { window, child };
}

/**
 * rootfs/cgroup-mount.ts as steps: the base in the window, held open for the child, which
 * mounts the hierarchies in it once in its cgroup namespace (so they show its own cgroup).
 */
function cgroupMount(destination: string, flags: number, window: Step[], rootfs: string): Step[] {
  const what = `mount ${destination}`;
  const host = hostCgroups();
  const at = inRoot(rootfs, destination);
  const base = "@0";
  if (host.mode === "v2") {
    window.push({ op: "holdIn", what, at, slot: 0 });
    return [{ op: "mount", what, source: "cgroup2", target: base, fstype: "cgroup2", flags, data: null }];
  }
  window.push({ op: "mountIn", what, source: "tmpfs", at, fstype: "tmpfs", flags: flags & ~MS.RDONLY, data: "mode=755", kind: "dir" });
  window.push({ op: "holdIn", what, at, slot: 0 });
  const steps: Step[] = [];
  const mountHierarchy = (dirName: string, fstype: string, data: string | null) => {
    const dirWhat = `mount ${posix.join(destination, dirName)}`;
    steps.push({ op: "mkdir", what: dirWhat, path: `${base}/${dirName}` });
    steps.push({ op: "mount", what: dirWhat, source: fstype, target: `${base}/${dirName}`, fstype, flags, data });
  };
  for (const h of host.v1) {
    const named = h.controllers.find((c) => c.startsWith("name="));
    const dirName = named ? named.slice(5) : h.controllers.join(",");
    mountHierarchy(dirName, "cgroup", named ? `none,${named}` : h.controllers.join(","));
    // "cpu" and "cpuacct" point at "cpu,cpuacct" where they share a hierarchy
    if (h.controllers.length > 1) for (const c of h.controllers) steps.push({ op: "symlink", what: `symlink ${posix.join(destination, c)}`, target: dirName, path: `${base}/${c}` });
  }
  if (host.unified) mountHierarchy("unified", "cgroup2", null);
  if (flags & MS.RDONLY) steps.push({ op: "mount", what, source: null, target: base, fstype: null, flags: MS.REMOUNT | flags, data: "mode=755" });
  return steps;
}

export function buildNativePlan(spec: Spec, ns: NamespacePlan, ctx: NativeContext): NativePlan {
  const proc = spec.process!;
  const linux = spec.linux;
  const { window: specMounts, child: childMounts } = mounts(ctx, spec);
  const rootProp = linux?.rootfsPropagation ? propagationFlags(linux.rootfsPropagation) : null;
  const window: Step[] = [
    { op: "unshare", flags: ns.unshareFlags & WINDOW_FLAGS },
    { op: "mount", what: "making / a slave", source: null, target: "/", fstype: null, flags: rootProp !== null && rootProp & MS.PRIVATE ? MS.PRIVATE | MS.REC : MS.SLAVE | MS.REC, data: null },
    { op: "mount", what: `bind ${ctx.rootfs}`, source: ctx.rootfs, target: ctx.rootfs, fstype: null, flags: MS.BIND | MS.REC, data: null },
    ...specMounts,
  ];
  const hasNs = (type: string) => (linux?.namespaces ?? []).some((n) => n.type === type);
  if (hasNs("uts") && spec.hostname !== undefined) window.push({ op: "hostname", what: `sethostname(${spec.hostname})`, name: spec.hostname });
  if (hasNs("uts") && spec.domainname !== undefined) window.push({ op: "domainname", what: `setdomainname(${spec.domainname})`, name: spec.domainname });
  if (hasNs("network")) window.push({ op: "loopbackUp", what: "lo up" });
  const pty = proc.terminal ? new NativePty() : undefined;
  if (pty) {
    const size = proc.consoleSize;
    window.push({ op: "ptyIn", what: "opening the container's terminal (/dev/pts/ptmx)", ptmx: inRoot(ctx.rootfs, "/dev/pts/ptmx"), rows: size?.height ?? 0, cols: size?.width ?? 0, pty });
  }
  window.push({ op: "pivot", what: "pivot_root", root: ctx.rootfs });

  const child: Step[] = [{ op: "setsid", what: "setsid" }, { op: "deathSignal", what: "PR_SET_PDEATHSIG", signal: 9 }];
  // A child that waits for `start` is there for as long as it takes: its fds must not be
  // reachable through its /proc entries meanwhile (Bun's init: setDumpable).
  if (ctx.waitForStart) child.unshift({ op: "notDumpable", what: "PR_SET_DUMPABLE" });
  child.push({ op: "sync" });
  // The procfs it reopens the fifo through, made while it is still root (after "go": in its cgroup).
  if (ctx.waitForStart) child.push({ op: "ownProc", what: "a procfs for the exec fifo (fsopen)" });
  if (hasNs("cgroup")) child.push({ op: "unshare", flags: CLONE.NEWCGROUP });
  child.push(...childMounts);
  if (pty) child.push({ op: "console", what: "making the terminal the controlling one", pty });
  const cwd = proc.cwd || "/";
  // As root and before the root may turn read-only (docker creates WORKDIR the same way).
  const parts = posix.normalize(cwd).split("/").filter((p) => p !== "");
  parts.forEach((_, i) => child.push({ op: "mkdir", what: `mkdir ${cwd}`, path: `/${parts.slice(0, i + 1).join("/")}` }));
  if (spec.root?.readonly) child.push({ op: "mount", what: "read-only root", source: null, target: "/", fstype: null, flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: null });
  for (const p of linux?.maskedPaths ?? []) child.push({ op: "mask", what: `masking ${p}`, path: p });
  for (const p of linux?.readonlyPaths ?? []) child.push({ op: "readonly", what: `read-only ${p}`, path: p });
  if (rootProp !== null) child.push({ op: "mount", what: `rootfsPropagation ${linux!.rootfsPropagation}`, source: null, target: "/", fstype: null, flags: rootProp, data: null });
  if (ctx.newKeyring) child.push({ op: "keyring", what: "keyctl(JOIN_SESSION_KEYRING)", path: `_ses.${ctx.id}` });
  // create's child outlives our process: it starts its program through the sealed stub
  // (sys/exec-stub.ts, CVE-2019-5736), a run's dies with us (and the binary is busy while we run)
  const create = ctx.waitForStart ? { waitForStart: ctx.waitForStart, stub: execStub()! } : {};
  child.push(...processSteps(proc, linux, { seccompCacheDir: ctx.seccompCacheDir, deathSignal: true, ...create }));
  const args = proc.args ?? [];
  const env = proc.env ?? [];
  return { window, child, cloneFlags: CLONE.NEWPID | CLONE.VM, argv: args, env, ...(pty ? { pty } : {}) };
}
