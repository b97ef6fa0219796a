import { ContainerError } from "../runtime/errors";
import { storeCredentials } from "../image/auth";
import { registryName } from "../image/reference";
import { Registry } from "../image/registry";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";

async function readStdin(): Promise<string> {
  return (await new Response(Bun.stdin.stream()).text()).replace(/\r?\n$/, "");
}

export default defineMycrCommand({
  meta: { name: "login", description: "Check credentials with a registry and store them ($REGISTRY_AUTH_FILE, else ~/.docker/config.json)" },
  args: {
    username: { type: "string", alias: "u", description: "User name", valueHint: "USER" },
    "password-stdin": { type: "boolean", description: "Read the password from stdin" },
    password: { type: "string", alias: "p", description: "Password (visible to other users in ps: prefer --password-stdin)" },
    "tls-verify": { type: "boolean", description: "Verify the registry's certificate; false also allows plain http (default true)" },
    registry: { type: "positional", description: "Registry host[:port] (default docker.io)", required: false },
  },
  async run(args) {
    const domain = registryName(args._[0] ?? "docker.io");
    const username = single(args.username);
    if (username === undefined) throw new ContainerError("login: give the user name with -u USER");
    let password = single(args.password);
    if (args["password-stdin"] === true) password = await readStdin();
    else if (password !== undefined) log.warn("a password on the command line is visible to other users: use --password-stdin");
    if (password === undefined || password === "") throw new ContainerError("login: no password (use --password-stdin)");
    const creds = { username, password };
    try {
      await new Registry(domain, { tlsVerify: args["tls-verify"] !== false, credentials: creds }).ping();
    } catch (e) {
      throw new ContainerError(`login ${domain}: ${(e as Error).message}`);
    }
    const file = storeCredentials(domain, creds);
    log.info(`login succeeded; credentials stored in ${file}`);
    return 0;
  },
});
