// docker's --format for listings: "table" (the default columns), "json" (one object a
// line), "table TEMPLATE" (a header row, then columns split on tabs and aligned), or a
// Go template (template.ts) printed once per row. As docker, a typed "\t" or "\n" in the
// template is a tab or a newline.
import { single, type ParsedFlags } from "./argv";
import { formatTable } from "./table";
import { compileTemplate } from "./template";

export function formatOption(columns: string) {
  return {
    type: "string",
    alias: "f",
    description: `table (${columns}), json (one object a line), or a Go template: '{{.Field}}', 'table {{.Field}}\\t...'`,
    valueHint: "FORMAT",
  } as const;
}

export interface RowFormat {
  /** Header of each field, in the default table's order. */
  headers: Record<string, string>;
  /** The default table, when it is more than the fields in order (ps truncates, stats rounds). */
  table?: () => string;
  /** What `json` prints for a row (default: its fields). */
  json?: (index: number) => unknown;
}

/** Go's text/template sees typed `\t` and `\n` as text; docker turns them into tabs and newlines. */
function unescape(template: string): string {
  return template.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
}

export function formatRows(flag: ParsedFlags[string], rows: Record<string, unknown>[], how: RowFormat): string {
  const format = single(flag) ?? "table";
  if (format === "table") {
    if (how.table) return how.table();
    const keys = Object.keys(how.headers);
    return formatTable(keys.map((k) => how.headers[k]!), rows.map((r) => keys.map((k) => String(r[k] ?? ""))));
  }
  if (format === "json") return rows.map((r, i) => JSON.stringify(how.json ? how.json(i) : r)).join("\n");
  if (format.startsWith("table ")) {
    const render = compileTemplate(unescape(format.slice("table ".length)));
    const header = render(new Proxy({}, { get: (_t, key) => (typeof key === "string" ? (how.headers[key] ?? key.toUpperCase()) : undefined), has: () => true }));
    const cells = (line: string) => line.split("\t");
    const body = rows.map((r) => cells(render(r)));
    return formatTable(cells(header), body);
  }
  const render = compileTemplate(unescape(format));
  return rows.map((r) => render(r)).join("\n");
}

/** One value formatted: `inspect -f`, `version -f`, `info -f`. Without a template: JSON. */
export function formatValue(flag: ParsedFlags[string], value: unknown): string | undefined {
  const format = single(flag);
  if (format === undefined) return undefined;
  if (format === "json") return JSON.stringify(value);
  return compileTemplate(unescape(format))(value);
}
