// Finding the program to exec inside the container, with the exit codes users know:
// 127 when it is not there, 126 when it is there but cannot run.
import { accessSync, constants, statSync } from "node:fs";
// Paths as Buffers: a name may hold bytes that are not UTF-8 (sys/bytes.ts).
import { encodeBytes } from "../sys/bytes";

export { DEFAULT_PATH } from "../spec/defaults";
import { DEFAULT_PATH } from "../spec/defaults";

export class ExecError extends Error {
  constructor(
    message: string,
    readonly exitCode: 126 | 127,
  ) {
    super(message);
  }
}

function checkExecutable(name: string, path: string): void {
  let st;
  try {
    st = statSync(encodeBytes(path));
  } catch {
    throw new ExecError(`"${name}": no such file or directory`, 127);
  }
  if (st.isDirectory()) throw new ExecError(`"${name}": is a directory`, 126);
  try {
    accessSync(encodeBytes(path), constants.X_OK);
  } catch {
    throw new ExecError(`"${name}": permission denied`, 126);
  }
}

/** Resolves args[0] as execvp would, after chdir into the process cwd. */
export function lookPath(name: string, env: string[]): string {
  if (name === "") throw new ExecError(`no command given`, 127);
  if (name.includes("/")) {
    checkExecutable(name, name);
    return name;
  }
  const pathVar = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  let denied: ExecError | null = null;
  for (const dir of pathVar.split(":")) {
    // Concatenated as execvp does: Bun's path.join turns bytes that are not UTF-8 into U+FFFD.
    const candidate = `${dir || "."}/${name}`;
    try {
      if (!statSync(encodeBytes(candidate)).isFile()) continue;
    } catch {
      continue;
    }
    try {
      checkExecutable(name, candidate);
      return candidate;
    } catch (e) {
      denied ??= e as ExecError;
    }
  }
  throw denied ?? new ExecError(`"${name}": executable file not found in $PATH`, 127);
}
