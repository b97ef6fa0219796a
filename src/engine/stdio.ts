// -t and -i: whether the container gets a terminal, and whether our stdin reaches it.
import { getWindowSize, isTerminal } from "../sys";

export interface StdioChoice {
  /** process.terminal: a pty inside the container. */
  terminal: boolean;
  /** Our stdin is passed to the container (without it: /dev/null). */
  attachStdin: boolean;
  consoleSize?: { height: number; width: number };
}

/**
 * As docker, with one kindness: flags not given and both stdin and stdout terminals
 * means -it (`mycr run sh` is a shell); stdin reaches the container with -i; and a
 * pipe or file on stdin is passed even without -i (`echo hi | mycr run cat` works),
 * where docker would give /dev/null. `-i=false` asks for /dev/null explicitly.
 */
export function chooseStdio(tty: boolean | undefined, interactive: boolean | undefined, fds: { stdin: number; stdout: number } = { stdin: 0, stdout: 1 }): StdioChoice {
  const stdinIsTerminal = isTerminal(fds.stdin);
  const auto = tty === undefined && interactive === undefined && stdinIsTerminal && isTerminal(fds.stdout);
  const terminal = auto || tty === true;
  const attachStdin = auto || (interactive ?? !stdinIsTerminal);
  if (!terminal) return { terminal, attachStdin };
  const size = getWindowSize(fds.stdout) ?? getWindowSize(fds.stdin);
  return { terminal, attachStdin, ...(size ? { consoleSize: { height: size.rows, width: size.cols } } : {}) };
}
