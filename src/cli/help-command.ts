// `mycr help [COMMAND [VERB]]`: the same text as `mycr COMMAND --help`.
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { GROUPED } from "./commands";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "help", description: "Show help for mycr or for a command" },
  args: { command: { type: "positional", description: "A command, or an object and its verb (container run)" } },
  async run(args) {
    const [first, second, ...rest] = args._;
    if (rest.length > 0) throw new UsageError(`help: too many words: ${args._.join(" ")}`);
    const target = first !== undefined && second !== undefined ? GROUPED[first]?.[second] : first;
    if (second !== undefined && target === undefined) throw new UsageError(`help: unknown command "${first} ${second}" (see mycr help ${first})`);
    const { helpText } = await import("./index");
    out(await helpText(target));
    return 0;
  },
});
