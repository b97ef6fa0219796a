// Docker's seccomp profile format (what `docker run --security-opt seccomp=FILE` reads)
// and its conversion to the runtime-spec's linux.seccomp. A docker profile is a template:
// entries apply only for some capabilities, architectures or kernel versions; the
// conversion picks the entries that apply to one container on this host.
import type { Seccomp } from "../spec/types";
import { releaseAtLeast } from "../sys/kernel";

export interface DockerArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface DockerFilter {
  caps?: string[];
  arches?: string[];
  /** "major.minor": the entry needs at least this kernel. */
  minKernel?: string;
}

export interface DockerSyscall {
  names?: string[];
  /** The older single-name form. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: DockerArg[] | null;
  comment?: string;
  includes?: DockerFilter;
  excludes?: DockerFilter;
}

export interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscall[];
}

/** What the conversion needs to know about the container and the host. */
export interface ProfileContext {
  /** The container's capabilities (bounding set), "CAP_" names. */
  capabilities: string[];
  /** Go's name for the host architecture, as docker profiles use it: "amd64", "arm64". */
  arch: string;
  /** The running kernel's release, "6.1.0-18-amd64". */
  kernel: string;
}

export class ProfileError extends Error {}

const SCMP_ARCH_OF: Record<string, string> = { amd64: "SCMP_ARCH_X86_64", arm64: "SCMP_ARCH_AARCH64" };

/** Go architecture name for process.arch. */
export function goArch(nodeArch: string = process.arch): string {
  return nodeArch === "x64" ? "amd64" : nodeArch;
}

function applies(call: DockerSyscall, ctx: ProfileContext): boolean {
  const inc = call.includes ?? {};
  const exc = call.excludes ?? {};
  const has = (cap: string) => ctx.capabilities.includes(cap);
  if (inc.caps?.length && !inc.caps.every(has)) return false;
  if (inc.arches?.length && !inc.arches.includes(ctx.arch)) return false;
  if (inc.minKernel && !releaseAtLeast(ctx.kernel, inc.minKernel)) return false;
  if (exc.caps?.some(has)) return false;
  if (exc.arches?.includes(ctx.arch)) return false;
  if (exc.minKernel && releaseAtLeast(ctx.kernel, exc.minKernel)) return false;
  return true;
}

function architectures(profile: DockerProfile, ctx: ProfileContext): string[] | undefined {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new ProfileError("both 'architectures' and 'archMap' are given; use one");
  }
  if (profile.architectures?.length) return [...profile.architectures];
  if (!profile.archMap?.length) return undefined;
  const native = SCMP_ARCH_OF[ctx.arch];
  const entry = profile.archMap.find((a) => a.architecture === native);
  return entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : undefined;
}

/** The linux.seccomp a docker profile means for one container on this host. */
export function convertProfile(profile: DockerProfile, ctx: ProfileContext): Seccomp {
  if (typeof profile.defaultAction !== "string" || profile.defaultAction === "") {
    throw new ProfileError("'defaultAction' is required");
  }
  const out: Seccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const arches = architectures(profile, ctx);
  if (arches) out.architectures = arches;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  (profile.syscalls ?? []).forEach((call, i) => {
    const names = call.names?.length ? call.names : call.name ? [call.name] : [];
    if (names.length === 0) throw new ProfileError(`syscalls[${i}]: 'names' is empty`);
    if (typeof call.action !== "string") throw new ProfileError(`syscalls[${i}]: 'action' is required`);
    if (!applies(call, ctx)) return;
    const rule: NonNullable<Seccomp["syscalls"]>[number] = { names: [...names], action: call.action };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args?.length) rule.args = call.args.map((a) => ({ ...a }));
    out.syscalls!.push(rule);
  });
  return out;
}

/** Parses the text of a profile file, with errors that say what is wrong. */
export function parseProfile(text: string, source: string): DockerProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProfileError(`${source}: a seccomp profile is a JSON object`);
  }
  const profile = value as DockerProfile;
  if (profile.syscalls !== undefined && !Array.isArray(profile.syscalls)) {
    throw new ProfileError(`${source}: 'syscalls' must be a list`);
  }
  return profile;
}
