// `mycr info`: what a user checks first about a host — its containers and images, where
// mycr keeps them, which cgroups and cgroup manager it uses, and how its binary enters
// containers — each read from the system, never assumed.
import { cpus, release, totalmem } from "node:os";
import { readFileSync } from "node:fs";
import { host, userDelegation } from "../cgroups";
import { containerSelfSeal } from "../runtime/self";
import type { StateStore } from "../runtime/state";
import { chooseCgroupManager } from "./cgroup-manager";
import { isRootless } from "../runtime/rootless";
import { listContainers } from "./containers";
import { imageStore } from "./image";
import { dataRoot } from "./paths";

export interface HostInfo {
  containers: number;
  running: number;
  paused: number;
  stopped: number;
  images: number;
  serverVersion: string;
  storageRoot: string;
  stateRoot: string;
  cgroupVersion: "1" | "2";
  cgroupMode: "v1" | "v2" | "hybrid";
  cgroupDriver: string;
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  cpus: number;
  memTotal: number;
  binarySeal: string;
  /** An ordinary user's mycr (docs/rootless.md): root of a user namespace of its own. */
  rootless: boolean;
}

function operatingSystem(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

export async function hostInfo(store: StateStore, version: string): Promise<HostInfo> {
  const containers = listContainers(store);
  const count = (...states: string[]) => containers.filter((c) => states.includes(c.state)).length;
  const mode = host().mode;
  return {
    containers: containers.length,
    running: count("running", "restarting"),
    paused: count("paused"),
    stopped: count("created", "exited", "dead"),
    images: new Set(imageStore().images().map((i) => i.config)).size,
    serverVersion: version,
    storageRoot: dataRoot(),
    stateRoot: store.root,
    cgroupVersion: mode === "v2" ? "2" : "1",
    cgroupMode: mode,
    // rootless: the user's systemd manager's scopes where it holds a delegated cgroup
    cgroupDriver: isRootless() ? ((await userDelegation(host())) ? "systemd" : "none") : chooseCgroupManager(),
    kernelVersion: release(),
    operatingSystem: operatingSystem(),
    architecture: process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch,
    cpus: cpus().length,
    memTotal: totalmem(),
    binarySeal: containerSelfSeal(),
    rootless: isRootless(),
  };
}
