import { dataRoot } from "../engine/paths";
import { ContainerError } from "../runtime/errors";
import { removeNetworkChecked } from "../engine/network-remove";
import { createNetwork, listNetworks, loadNetwork, networkSubnet } from "../net/networks";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { out } from "./output";
import { formatTable } from "./table";

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new ContainerError((e as Error).message);
  }
}

/** `mycr network create|ls|rm|inspect`: CNI conflists under MYCR_ROOT/networks. */
export default defineMycrCommand({
  meta: { name: "network", description: "Manage networks: create [--subnet CIDR] NAME, ls, inspect NAME, rm NAME" },
  args: {
    subnet: { type: "string", description: "With create: the network's /24 (default: the next free 10.89.N.0/24)", valueHint: "CIDR" },
    action: { type: "positional", description: "create, ls, inspect or rm, then the name" },
  },
  needsRoot: true,
  rootless: { refuse: "networks are bridges on the host and need root; rootless containers use pasta (--network pasta, the default) or slirp4netns" },
  run(args) {
    const [action, name, ...rest] = args._;
    const root = dataRoot();
    if (rest.length > 0) throw new ContainerError(`network ${action}: unexpected arguments: ${rest.join(" ")}`);
    const needName = () => {
      if (!name) throw new ContainerError(`network ${action} needs a network name`);
      return name;
    };
    switch (action) {
      case "create":
        out(wrap(() => createNetwork(root, needName(), single(args.subnet))).name);
        return 0;
      case "ls":
      case "list":
        out(formatTable(["NAME", "SUBNET", "BRIDGE"], listNetworks(root).map((n) => [n.name, networkSubnet(n), String(n.plugins[0]?.bridge ?? "")])));
        return 0;
      case "inspect":
        out(JSON.stringify(wrap(() => loadNetwork(root, needName())), null, 2));
        return 0;
      case "rm":
      case "remove":
        removeNetworkChecked(root, needName());
        return 0;
      default:
        throw new ContainerError(`network: unknown action "${action ?? ""}" (create, ls, inspect, rm)`);
    }
  },
});
