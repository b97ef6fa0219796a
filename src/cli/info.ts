import { hostInfo, type HostInfo } from "../engine/info";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { out } from "./output";
import { VERSION } from "./version-number";

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)}GiB`;
}

/** docker info's layout, for the lines mycr has. */
function text(i: HostInfo): string {
  const lines = [
    `Containers: ${i.containers}`,
    ` Running: ${i.running}`,
    ` Paused: ${i.paused}`,
    ` Stopped: ${i.stopped}`,
    `Images: ${i.images}`,
    `Server Version: ${i.serverVersion}`,
    `Storage Root: ${i.storageRoot}`,
    `State Root: ${i.stateRoot}`,
    `Cgroup Driver: ${i.cgroupDriver}${!i.rootless ? "" : i.cgroupDriver === "none" ? " (rootless: no cgroup is delegated to you)" : " (rootless: scopes of your systemd user manager)"}`,
    `Cgroup Version: ${i.cgroupVersion}${i.cgroupMode === "hybrid" ? " (hybrid: v1 controllers, an empty cgroup2 tree)" : ""}`,
    `Binary Seal: ${i.binarySeal} (how mycr's binary enters containers, read-only)`,
    `Rootless: ${i.rootless}`,
    `Kernel Version: ${i.kernelVersion}`,
    `Operating System: ${i.operatingSystem}`,
    `Architecture: ${i.architecture}`,
    `CPUs: ${i.cpus}`,
    `Total Memory: ${gib(i.memTotal)}`,
  ];
  return lines.join("\n");
}

export default defineMycrCommand({
  meta: { name: "info", description: "What mycr sees on this host: containers, images, storage, cgroups (docker info)" },
  args: {
    format: { type: "enum", alias: "f", options: ["text", "json"], default: "text", description: "text, or json (one object)" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const info = await hostInfo(new StateStore(global.stateRoot), VERSION);
    out(single(args.format) === "json" ? JSON.stringify(info) : text(info));
    return 0;
  },
});
