// `mycr version`, in docker version's layout: the client (this executable) and, where
// docker has its daemon, the runtime in the same executable, with what it runs on.
import { release } from "node:os";
import { host } from "../cgroups";
import { chooseCgroupManager } from "../engine/cgroup-manager";
import { OCI_VERSION } from "../spec/types";
import { VERSION } from "./version-number";
import { defineMycrCommand } from "./command";
import { formatValue } from "./format";
import { out } from "./output";

interface Component {
  Name: string;
  Version: string;
  Details: Record<string, string>;
}

function versionInfo() {
  const os = process.platform;
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const mode = host().mode;
  return {
    Client: { Version: VERSION, BunVersion: Bun.version, Os: os, Arch: arch, Executable: process.execPath },
    Server: {
      Platform: { Name: "mycr (no daemon: the runtime is this same executable)" },
      Components: <Component[]>[
        { Name: "runtime", Version: VERSION, Details: { OciSpec: OCI_VERSION } },
        { Name: "cgroups", Version: mode === "v2" ? "2" : "1", Details: { Mode: mode, Driver: chooseCgroupManager() } },
      ],
      Version: VERSION,
      Os: os,
      Arch: arch,
      KernelVersion: release(),
    },
  };
}

export default defineMycrCommand({
  meta: { name: "version", description: "Show the version of mycr and of what it runs on (docker version's layout)" },
  args: {
    format: { type: "string", alias: "f", description: "json, or a Go template: '{{.Client.Version}}'", valueHint: "FORMAT" },
  },
  run(args) {
    const v = versionInfo();
    const formatted = formatValue(args.format, v);
    if (formatted !== undefined) {
      out(formatted);
      return 0;
    }
    const [runtime, cgroups] = v.Server.Components as [Component, Component];
    const row = (indent: string, key: string, value: string) => `${indent}${`${key}:`.padEnd(19 - indent.length)}${value}`;
    out(
      [
        "Client:",
        row(" ", "Version", v.Client.Version),
        row(" ", "Bun version", v.Client.BunVersion),
        row(" ", "OS/Arch", `${v.Client.Os}/${v.Client.Arch}`),
        row(" ", "Executable", v.Client.Executable),
        "",
        `Server: ${v.Server.Platform.Name}`,
        " Runtime:",
        row("  ", "Version", runtime.Version),
        row("  ", "OCI spec", runtime.Details.OciSpec ?? ""),
        " Cgroups:",
        row("  ", "Version", `${cgroups.Version}${cgroups.Details.Mode === "hybrid" ? " (hybrid)" : ""}`),
        row("  ", "Driver", cgroups.Details.Driver ?? ""),
        " Kernel:",
        row("  ", "Version", v.Server.KernelVersion),
      ].join("\n"),
    );
    return 0;
  },
});
