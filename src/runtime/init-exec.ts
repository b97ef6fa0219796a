// The hidden `mycr init-exec`: the --init reaper's child for an instant. It takes the
// terminal's foreground when asked and becomes the user's program (see reaper.ts).
import { writeSync } from "node:fs";
import { SysError, closeFdsOnExec, execve, ignoreSignal, resetSignals, setpgid, tcsetpgrp, SIGNALS } from "../sys";
import { MessageReader, type ExecRequest } from "./messages";

export function initExecMain(): never {
  const request = new MessageReader<ExecRequest>(3).next();
  if (request?.type !== "exec") process.exit(125);
  try {
    if (request.foreground) {
      // A process group of its own, made the terminal's foreground: Ctrl-C goes to it
      // alone. Asking from a background group would stop us with SIGTTOU.
      setpgid(0, 0);
      ignoreSignal(SIGNALS.SIGTTOU!);
      tcsetpgrp(0, process.pid);
    }
    closeFdsOnExec(3);
    resetSignals();
    return execve(request.path, request.args, request.env);
  } catch (e) {
    writeSync(2, `mycr: ${(e as Error).message}\n`);
    const code = e instanceof SysError && e.call === "execve" ? (e.errno === 2 ? 127 : 126) : 125;
    process.exit(code);
  }
}
