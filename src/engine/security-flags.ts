// `mycr run`'s security flags (docker's names and meanings) -> the spec fields the
// runtime applies: process.capabilities, process.noNewPrivileges, linux.seccomp,
// linux.maskedPaths/readonlyPaths, linux.devices, linux.resources.devices, linux.sysctl.
// Without flags a container is held as docker holds one; each flag loosens one thing.
import { readFileSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { CapabilityError, containerCapabilities } from "../security/capabilities";
import { DEFAULT_SECCOMP_PROFILE } from "../security/default-seccomp";
import { ALLOW_ALL_DEVICES, DEFAULT_DEVICE_RULES } from "../security/devices";
import { ProfileError, convertProfile, goArch, parseProfile, type DockerProfile } from "../security/docker-profile";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "../security/paths";
import { sysctlKey, sysctlProblem } from "../spec/sysctl";
import type { Capabilities, Device, DeviceCgroupRule, NamespaceType, Seccomp } from "../spec/types";
import { hostDevices, parseDeviceFlag } from "./device-flags";
import { kernelRelease } from "../sys";

export interface SecurityFlags {
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  securityOpt: string[];
  devices: string[];
  sysctls: string[];
}

export interface SecuritySettings {
  privileged: boolean;
  capabilities: Capabilities;
  noNewPrivileges: boolean;
  seccomp?: Seccomp;
  maskedPaths: string[];
  readonlyPaths: string[];
  devices: Device[];
  /** linux.resources.devices: the v1 devices controller or, on cgroup v2, an eBPF program applies them. */
  deviceRules: DeviceCgroupRule[];
  sysctl?: Record<string, string>;
}

interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "default", "unconfined", or a profile file. */
  seccomp: string;
  /** systempaths=unconfined: no masked or read-only paths. */
  unconfinedPaths: boolean;
}

function parseBool(opt: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new ContainerError(`--security-opt ${opt}: expected true or false, not "${value}"`);
}

function parseSecurityOpts(opts: string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: "default", unconfinedPaths: false };
  for (const opt of opts) {
    // docker accepts both KEY=VALUE and the older KEY:VALUE
    const m = /^([a-z-]+)(?:[=:](.*))?$/.exec(opt);
    const key = m?.[1];
    const value = m?.[2];
    if (key === "no-new-privileges") out.noNewPrivileges = value === undefined ? true : parseBool(opt, value);
    else if (key === "seccomp" && value) out.seccomp = value;
    else if (key === "systempaths" && value === "unconfined") out.unconfinedPaths = true;
    else if (key === "apparmor" || key === "label") {
      throw new ContainerError(`--security-opt ${opt}: ${key === "label" ? "SELinux" : "AppArmor"} is not supported by mycr`);
    } else {
      throw new ContainerError(`--security-opt ${opt}: expected no-new-privileges[:true|false], seccomp=unconfined|PROFILE.json or systempaths=unconfined`);
    }
  }
  return out;
}

function seccompProfile(choice: string, caps: string[]): Seccomp | undefined {
  if (choice === "unconfined") return undefined;
  let profile: DockerProfile = DEFAULT_SECCOMP_PROFILE;
  if (choice !== "default") {
    let text: string;
    try {
      text = readFileSync(choice, "utf8");
    } catch (e) {
      throw new ContainerError(`--security-opt seccomp=${choice}: cannot read the profile (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    try {
      profile = parseProfile(text, choice);
    } catch (e) {
      throw new ContainerError(`--security-opt seccomp=${choice}: ${(e as Error).message.replace(`${choice}: `, "")}`);
    }
  }
  try {
    return convertProfile(profile, { capabilities: caps, arch: goArch(), kernel: kernelRelease() });
  } catch (e) {
    if (e instanceof ProfileError) throw new ContainerError(`seccomp profile ${choice === "default" ? "(default)" : choice}: ${e.message}`);
    throw e;
  }
}

/** KEY=VALUE; only parameters of the container's own namespaces. */
function parseSysctls(flags: string[], namespaces: Set<NamespaceType>): Record<string, string> | undefined {
  if (flags.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new ContainerError(`--sysctl ${flag}: expected KEY=VALUE, such as net.ipv4.ip_forward=1`);
    const key = sysctlKey(flag.slice(0, eq));
    const problem = sysctlProblem(key, namespaces);
    if (problem) throw new ContainerError(`--sysctl ${flag}: ${problem}`);
    out[key] = flag.slice(eq + 1);
  }
  return out;
}

export function securityFromFlags(f: SecurityFlags, namespaces: Set<NamespaceType>): SecuritySettings {
  const opts = parseSecurityOpts(f.securityOpt);
  let caps: string[];
  try {
    caps = containerCapabilities(f.capAdd, f.capDrop, f.privileged);
  } catch (e) {
    if (e instanceof CapabilityError) throw new ContainerError(e.message);
    throw e;
  }
  const grants = f.devices.map(parseDeviceFlag);
  const devices = f.privileged ? hostDevices() : grants.map((g) => g.device);
  if (f.privileged) for (const g of grants) if (!devices.some((d) => d.path === g.device.path)) devices.push(g.device);
  const rules = f.privileged ? ALLOW_ALL_DEVICES : [...DEFAULT_DEVICE_RULES, ...grants.map((g) => g.rule)];
  const confinedPaths = !f.privileged && !opts.unconfinedPaths;
  return {
    privileged: f.privileged,
    // docker's shape: the same set everywhere except inheritable and ambient, which stay empty for root
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: opts.noNewPrivileges,
    // docker: --privileged means no seccomp filter, whatever else was asked
    seccomp: f.privileged ? undefined : seccompProfile(opts.seccomp, caps),
    maskedPaths: confinedPaths ? [...DEFAULT_MASKED_PATHS] : [],
    readonlyPaths: confinedPaths ? [...DEFAULT_READONLY_PATHS] : [],
    devices,
    deviceRules: rules,
    sysctl: parseSysctls(f.sysctls, namespaces),
  };
}
