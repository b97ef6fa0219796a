// `mycr system df|info`: docker's names; resolved before this file is loaded (index.ts).
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "system", description: "Manage mycr: df (disk usage), info" },
  args: { command: { type: "positional", description: "df | info" } },
  run(args) {
    throw new UsageError(`system: unknown subcommand "${args._[0] ?? ""}" (df, info)`);
  },
});
