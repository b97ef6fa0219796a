// The part of Go's text/template that docker users put in --format: {{.Field.Sub}},
// pipelines (`{{.Names | upper}}`), docker's functions (json, upper, lower, title, join,
// split, index, truncate, print, println, printf with %s/%d/%v), {{if}}/{{else}}, {{range}},
// {{with}} and the `{{-`/`-}}` trim markers. Anything else is refused with one line
// naming it: a template that silently printed nothing would look like an empty answer.
import { UsageError } from "./argv";

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: string }
  | { kind: "if" | "with" | "range"; pipe: string; body: Node[]; otherwise: Node[] };

function fail(template: string, why: string): never {
  throw new UsageError(`--format ${JSON.stringify(template)}: ${why}`);
}

/** Splits the template into text and actions, with Go's trim markers applied. */
function lex(template: string): { text: string; action?: string }[] {
  const parts: { text: string; action?: string }[] = [];
  let rest = template;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf("{{");
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open < 0) {
      parts.push({ text });
      break;
    }
    const close = rest.indexOf("}}", open);
    if (close < 0) fail(template, "an action is not closed with }}");
    let inner = rest.slice(open + 2, close);
    if (inner.startsWith("- ")) {
      text = text.replace(/\s+$/, "");
      inner = inner.slice(1);
    }
    trimNext = inner.endsWith(" -");
    if (trimNext) inner = inner.slice(0, -1);
    parts.push({ text, action: inner.trim() });
    rest = rest.slice(close + 2);
  }
  return parts;
}

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: { node: Extract<Node, { body: Node[] }>; inElse: boolean }[] = [];
  const current = () => (stack.length === 0 ? root : stack[stack.length - 1]!.inElse ? stack[stack.length - 1]!.node.otherwise : stack[stack.length - 1]!.node.body);
  for (const { text, action } of lex(template)) {
    if (text !== "") current().push({ kind: "text", text });
    if (action === undefined) continue;
    if (action.startsWith("/*")) continue; // a comment
    const [word = "", ...restWords] = action.split(/\s+/);
    const rest = restWords.join(" ");
    if (["define", "template", "block", "break", "continue"].includes(word) || action.includes(":=") || action.includes("$")) {
      fail(template, `{{${action}}} is not supported (fields, pipelines, functions, if, with and range are)`);
    }
    if (word === "if" || word === "with" || word === "range") {
      const node = { kind: word, pipe: rest, body: [], otherwise: [] } as Extract<Node, { body: Node[] }>;
      current().push(node);
      stack.push({ node, inElse: false });
    } else if (word === "else") {
      if (stack.length === 0 || rest !== "") fail(template, "{{else}} outside {{if}}, {{with}} or {{range}} (or {{else if}}, which is not supported)");
      stack[stack.length - 1]!.inElse = true;
    } else if (word === "end") {
      if (!stack.pop()) fail(template, "{{end}} without {{if}}, {{with}} or {{range}}");
    } else {
      current().push({ kind: "action", pipe: action });
    }
  }
  if (stack.length > 0) fail(template, `{{${stack[stack.length - 1]!.node.kind}}} is not closed with {{end}}`);
  return root;
}

/** Words of a command: "quoted strings" stay whole. */
function words(command: string, template: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : `\u0000${m[2]}`);
  if (out.length === 0) fail(template, "an empty action {{}}");
  return out;
}

function field(value: unknown, path: string, template: string): unknown {
  let v = value;
  for (const name of path.split(".").filter(Boolean)) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail(template, `.${path}: ${name} is not a field of ${printValue(v)}`);
    const obj = v as Record<string, unknown>;
    if (!(name in obj)) fail(template, `.${path}: no field ${name} (fields: ${Object.keys(obj).join(", ")})`);
    v = obj[name];
  }
  return v;
}

/** How Go prints a value: maps as map[k:v], lists as [a b], nothing as <no value>. */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return "<no value>";
  if (Array.isArray(v)) return `[${v.map(printValue).join(" ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `map[${entries.map(([k, x]) => `${k}:${printValue(x)}`).join(" ")}]`;
  }
  return String(v);
}

function printf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-0-9.]*)([sdvq%])/g, (_m, width: string, verb: string) => {
    if (verb === "%") return "%";
    const a = args[i++];
    const text = verb === "q" ? JSON.stringify(printValue(a)) : printValue(a);
    const n = Number.parseInt(width, 10);
    if (Number.isNaN(n)) return text;
    return width.startsWith("-") ? text.padEnd(-n) : text.padStart(n);
  });
}

const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  json: ([v]) => JSON.stringify(v ?? null),
  upper: ([v]) => printValue(v).toUpperCase(),
  lower: ([v]) => printValue(v).toLowerCase(),
  title: ([v]) => printValue(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: ([list, sep]) => (Array.isArray(list) ? list.map(printValue).join(printValue(sep)) : printValue(list)),
  split: ([text, sep]) => printValue(text).split(printValue(sep)),
  index: ([v, ...keys]) => keys.reduce<unknown>((acc, k) => (acc !== null && typeof acc === "object" ? (acc as Record<string, unknown>)[printValue(k)] : undefined), v),
  truncate: ([v, n]) => printValue(v).slice(0, Number(n)),
  len: ([v]) => (Array.isArray(v) ? v.length : v && typeof v === "object" ? Object.keys(v).length : printValue(v).length),
  print: (args) => args.map(printValue).join(""),
  println: (args) => `${args.map(printValue).join(" ")}\n`,
  printf: ([format, ...args]) => printf(printValue(format), args),
  eq: ([a, ...rest]) => rest.some((b) => printValue(a) === printValue(b)),
  ne: ([a, b]) => printValue(a) !== printValue(b),
  not: ([v]) => !truthy(v),
  and: (args) => args.reduce((acc, v) => (truthy(acc) ? v : acc)),
  or: (args) => args.reduce((acc, v) => (truthy(acc) ? acc : v)),
};

function evalPipe(pipe: string, dot: unknown, template: string): unknown {
  let prev: { value: unknown } | undefined;
  for (const command of pipe.split(/\|(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((c) => c.trim())) {
    const [head, ...args] = words(command, template);
    const operand = (w: string): unknown => {
      if (!w.startsWith("\u0000")) return w; // a quoted string
      const t = w.slice(1);
      if (t === ".") return dot;
      if (t.startsWith(".")) return field(dot, t.slice(1), template);
      if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
      if (t === "true" || t === "false") return t === "true";
      fail(template, `"${t}" is not a field, string or number`);
    };
    const name = head!.startsWith("\u0000") ? head!.slice(1) : "";
    const fn = FUNCTIONS[name];
    if (fn) {
      const values = args.map(operand);
      if (prev) values.push(prev.value);
      prev = { value: fn(values) };
    } else {
      if (args.length > 0 || prev) fail(template, `"${name || head}" is not a function (${Object.keys(FUNCTIONS).join(", ")})`);
      prev = { value: operand(head!) };
    }
  }
  return prev?.value;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return !!v;
}

function render(nodes: Node[], dot: unknown, template: string): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "action") out += printValue(evalPipe(n.pipe, dot, template));
    else {
      const v = evalPipe(n.pipe, dot, template);
      if (n.kind === "range") {
        const items = Array.isArray(v) ? v : v && typeof v === "object" ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : [];
        out += items.length > 0 ? items.map((item) => render(n.body, item, template)).join("") : render(n.otherwise, dot, template);
      } else if (truthy(v)) out += render(n.body, n.kind === "with" ? v : dot, template);
      else out += render(n.otherwise, dot, template);
    }
  }
  return out;
}

/** A parsed template, to run on many values. */
export function compileTemplate(template: string): (data: unknown) => string {
  const nodes = parse(template);
  return (data) => render(nodes, data, template);
}
