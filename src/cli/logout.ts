import { ContainerError } from "../runtime/errors";
import { loginFile, removeCredentials } from "../image/auth";
import { registryName } from "../image/reference";
import { defineMycrCommand } from "./command";
import { log } from "./log";

export default defineMycrCommand({
  meta: { name: "logout", description: "Remove a registry's stored credentials" },
  args: {
    registry: { type: "positional", description: "Registry host[:port] (default docker.io)", required: false },
  },
  run(args) {
    const domain = registryName(args._[0] ?? "docker.io");
    if (!removeCredentials(domain)) throw new ContainerError(`logout ${domain}: not logged in (${loginFile()})`);
    log.info(`removed the credentials for ${domain}`);
    return 0;
  },
});
