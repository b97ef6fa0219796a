// docker's `port`: the host addresses a container's ports are published on.
import { findContainer } from "../engine/containers";
import { hostAddress } from "../engine/ports";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "port", description: "List a container's published ports, or the host address of one (80, 80/tcp)" },
  args: {
    container: { type: "positional", description: "Container name or id" },
    port: { type: "positional", description: "PRIVATE_PORT[/PROTO]", required: false },
  },
  needsRoot: true,
  rootless: "enter",
  run(args, global) {
    const [ref, wanted, ...rest] = args._;
    if (!ref || rest.length > 0) throw new ContainerError("usage: mycr port CONTAINER [PRIVATE_PORT[/PROTO]]");
    const view = findContainer(new StateStore(global.stateRoot), ref);
    if (wanted === undefined) {
      for (const p of view.ports) out(`${p.containerPort}/${p.protocol} -> ${hostAddress(p)}:${p.hostPort}`);
      return 0;
    }
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(wanted);
    if (!m) throw new ContainerError(`port ${wanted}: use PRIVATE_PORT[/tcp|udp], such as 80 or 53/udp`);
    const proto = m[2] ?? "tcp";
    const found = view.ports.filter((p) => p.containerPort === Number(m[1]) && p.protocol === proto);
    if (found.length === 0) throw new ContainerError(`no public port '${m[1]}/${proto}' published for ${ref}`);
    for (const p of found) out(`${hostAddress(p)}:${p.hostPort}`);
    return 0;
  },
});
