// The words of an OCI verb call in the forms podman and containerd's shim send (see
// ./oci-light.ts), parsed in main.ts before any other module loads: a command that is not
// one of them loads nothing more for it. Imports nothing (but a type).
import type { OciCreateFlags } from "./oci-create-options";

const VERBS = ["create", "start", "state", "delete", "kill"] as const;
type Verb = (typeof VERBS)[number];

/** `create`'s flags (runc's), as they were given: checked as the CLI checks them. */
export interface LightCreateFlags extends OciCreateFlags {
  bundle?: string;
}

export interface LightCall {
  verb: Verb;
  id: string;
  root?: string;
  log?: string;
  logFormat: "json" | "text";
  /** --systemd-cgroup: read by `create` only (the other verbs read the container's record) */
  systemdCgroup: boolean;
  /** delete --force */
  force: boolean;
  /** kill --all */
  all: boolean;
  /** kill's second word (runc's `kill ID SIGNAL`) */
  signal?: string;
  create?: LightCreateFlags;
}

/** `create`'s flags that take a value, by spelling. */
const CREATE_VALUES: Record<string, "bundle" | "pidFile" | "consoleSocket" | "preserveFds"> = {
  "--bundle": "bundle",
  "-b": "bundle",
  "--pid-file": "pidFile",
  "--console-socket": "consoleSocket",
  "--preserve-fds": "preserveFds",
};

/** The call, when `argv` is one of the forms this path takes; null sends it to the CLI. */
export function parseLightCall(argv: string[]): LightCall | null {
  // A word that is not UTF-8 must reach the CLI, which reads it byte for byte (raw-argv.ts).
  if (argv.some((word) => word.includes("\ufffd"))) return null;
  const call: Partial<LightCall> & { logFormat: "json" | "text"; systemdCgroup: boolean; force: boolean; all: boolean } = {
    logFormat: "text",
    systemdCgroup: false,
    force: false,
    all: false,
  };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith("-"); i++) {
    const word = argv[i]!;
    const eq = word.indexOf("=");
    const flag = eq < 0 ? word : word.slice(0, eq);
    if (flag === "--systemd-cgroup" && eq < 0) {
      call.systemdCgroup = true;
      continue;
    }
    if (flag !== "--root" && flag !== "--log" && flag !== "--log-format") return null;
    const value = eq < 0 ? argv[++i] : word.slice(eq + 1);
    if (value === undefined || value === "") return null;
    if (flag === "--root") call.root = value;
    else if (flag === "--log") call.log = value;
    else if (value === "json" || value === "text") call.logFormat = value;
    else return null;
  }
  const verb = argv[i] as Verb;
  if (!VERBS.includes(verb)) return null;
  const create: LightCreateFlags = { noPivot: false, noNewKeyring: false };
  const words: string[] = [];
  const rest = argv.slice(i + 1);
  for (let k = 0; k < rest.length; k++) {
    const word = rest[k]!;
    if (verb === "delete" && (word === "--force" || word === "-f")) call.force = true;
    else if (verb === "kill" && (word === "--all" || word === "-a")) call.all = true;
    else if (verb === "create" && (word === "--no-pivot" || word === "--no-new-keyring")) create[word === "--no-pivot" ? "noPivot" : "noNewKeyring"] = true;
    else if (verb === "create" && word.startsWith("-")) {
      const eq = word.startsWith("--") ? word.indexOf("=") : -1;
      const key = CREATE_VALUES[eq < 0 ? word : word.slice(0, eq)];
      const value = eq < 0 ? rest[++k] : word.slice(eq + 1);
      // unknown, given twice, or with no value (or one that looks like a flag): the CLI words it
      if (key === undefined || value === undefined || value === "" || value.startsWith("-") || create[key] !== undefined) return null;
      create[key] = value;
    } else if (word.startsWith("-")) return null;
    else words.push(word);
  }
  const [id, second, ...more] = words;
  if (id === undefined || more.length > 0 || (second !== undefined && verb !== "kill")) return null;
  return { ...call, verb, id, ...(second !== undefined ? { signal: second } : {}), ...(verb === "create" ? { create } : {}) };
}
