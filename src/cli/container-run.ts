// `mycr container run IMAGE [COMMAND...]`: docker's grammar, the image as the first word.
// The same flags and the same path as `mycr run --image IMAGE`.
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import run from "./run";

const { image: _image, rootfs: _rootfs, bundle: _bundle, command: _command, ...args } = run.args;

export default defineMycrCommand({
  meta: { name: "container run", description: "Run a command in a new container from an image, docker's grammar: mycr container run [flags] IMAGE [COMMAND [ARG...]]" },
  args: { ...args, image: { type: "positional", description: "The image, then the command and its arguments (default: the image's)", required: false } },
  parse: { ...run.parse, leadingPositionals: 1 },
  needsRoot: true,
  run(parsed, global) {
    const [image, ...command] = parsed._;
    if (image === undefined) throw new UsageError("container run needs an image: mycr container run [flags] IMAGE [COMMAND [ARG...]]");
    return run.run({ ...parsed, image, _: command }, global);
  },
});
