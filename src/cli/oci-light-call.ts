// The words of an OCI verb call in the forms podman and containerd's shim send (see
// ./oci-light.ts), parsed in main.ts before any other module loads: a command that is not
// one of them loads nothing more for it. Imports nothing.

const VERBS = ["start", "state", "delete", "kill"] as const;
type Verb = (typeof VERBS)[number];

export interface LightCall {
  verb: Verb;
  id: string;
  root?: string;
  log?: string;
  logFormat: "json" | "text";
  /** delete --force */
  force: boolean;
  /** kill --all */
  all: boolean;
  /** kill's second word (runc's `kill ID SIGNAL`) */
  signal?: string;
}

/** The call, when `argv` is one of the forms this path takes; null sends it to the CLI. */
export function parseLightCall(argv: string[]): LightCall | null {
  // A word that is not UTF-8 must reach the CLI, which reads it byte for byte (raw-argv.ts).
  if (argv.some((word) => word.includes("\ufffd"))) return null;
  const call: Partial<LightCall> & { logFormat: "json" | "text"; force: boolean; all: boolean } = { logFormat: "text", force: false, all: false };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith("-"); i++) {
    const word = argv[i]!;
    const eq = word.indexOf("=");
    const flag = eq < 0 ? word : word.slice(0, eq);
    if (flag === "--systemd-cgroup" && eq < 0) continue; // these verbs read the manager from the container's record
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
  const words: string[] = [];
  for (const word of argv.slice(i + 1)) {
    if (verb === "delete" && (word === "--force" || word === "-f")) call.force = true;
    else if (verb === "kill" && (word === "--all" || word === "-a")) call.all = true;
    else if (word.startsWith("-")) return null;
    else words.push(word);
  }
  const [id, second, ...more] = words;
  if (id === undefined || more.length > 0 || (second !== undefined && verb !== "kill")) return null;
  return { ...call, verb, id, ...(second !== undefined ? { signal: second } : {}) };
}
