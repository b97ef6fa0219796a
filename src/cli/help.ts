// Help as docker and git write it: `mycr --help` lists the commands in groups, each
// command's help shows its usage, flags and examples, all wrapped to the terminal's
// width (COLUMNS, else 80 when not a terminal).
import type { ArgsDef } from "citty";
import type { MycrCommand } from "./command";
import { GROUPS, TEXT } from "./help-text";

export function terminalWidth(): number {
  const fromEnv = Number(process.env.COLUMNS);
  const cols = process.stdout.isTTY ? process.stdout.columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
  return Math.max(40, Math.min(cols || 80, 200));
}

/** `text` in lines of at most `width`, the first after `first`, the rest indented to `indent`. */
export function wrap(text: string, first: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = first;
  const room = () => width - line.length;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const fresh = line.length === indent || line === first;
    if (!fresh && word.length + 1 > room()) {
      lines.push(line.trimEnd());
      line = " ".repeat(indent);
    }
    line += (line.length === indent || line === first ? "" : " ") + word;
  }
  lines.push(line.trimEnd());
  return lines.join("\n");
}

/** Two columns: names padded to the widest (at most 24), descriptions wrapped beside them. */
function columns(rows: [string, string][], width: number, minName = 0): string {
  const nameWidth = Math.min(24, Math.max(minName, ...rows.map(([n]) => n.length)));
  return rows
    .map(([name, text]) => {
      const head = `  ${name.padEnd(nameWidth)}  `;
      if (head.length > nameWidth + 4) return `  ${name}\n${wrap(text, " ".repeat(nameWidth + 4), nameWidth + 4, width)}`;
      return wrap(text, head, nameWidth + 4, width);
    })
    .join("\n");
}

export function globalHelp(commands: Record<string, MycrCommand>, globalArgs: ArgsDef, version: string): string {
  const width = terminalWidth();
  const parts = [`Usage:  mycr [OPTIONS] COMMAND`, "", wrap(`A container runtime in one executable (version ${version}): docker's commands for people, runc's for podman, containerd and CRI-O.`, "", 0, width)];
  // one column for the names of every group, as docker's
  const nameWidth = Math.max(...GROUPS.flatMap((g) => g.commands.map((c) => c.length)));
  for (const group of GROUPS) {
    parts.push("", `${group.title}:`, columns(group.commands.map((c) => [c, summary(commands[c]!)]), width, nameWidth));
  }
  parts.push("", "Global Options:", columns(flagRows(globalArgs), width));
  parts.push("", wrap("Run 'mycr COMMAND --help' (or 'mycr help COMMAND') for more information on a command. The reference is in docs/cli.md.", "", 0, width));
  return parts.join("\n");
}

/** The first sentence of a command's description, for listings. */
function summary(cmd: MycrCommand): string {
  const d = cmd.meta.description;
  const colon = d.indexOf(": ");
  return colon > 0 && d.startsWith("Manage") ? d.slice(0, colon) : d;
}

function flagRows(args: ArgsDef): [string, string][] {
  const rows: [string, string][] = [];
  for (const [name, arg] of Object.entries(args)) {
    if (arg.type === "positional") continue;
    const alias = "alias" in arg && typeof arg.alias === "string" ? `-${arg.alias}, ` : "    ";
    const hint = arg.type === "boolean" ? "" : ` ${"valueHint" in arg && arg.valueHint ? arg.valueHint : arg.type === "enum" && "options" in arg ? (arg.options as string[]).join("|") : "string"}`;
    rows.push([`${alias}--${name}${hint}`, arg.description ?? ""]);
  }
  return rows;
}

/** An example line; its "# comment" goes on the line above when both do not fit. */
function example(text: string, width: number): string {
  const hash = text.indexOf("  # ");
  if (text.length + 2 <= width || hash < 0) return `  ${text}`;
  return `${wrap(text.slice(hash).trim(), "  ", 4, width)}\n  ${text.slice(0, hash).trimEnd()}`;
}

export function commandHelp(cmd: MycrCommand): string {
  const width = terminalWidth();
  const text = TEXT[cmd.meta.name];
  const usage = text?.usage ?? [`mycr ${cmd.meta.name} [OPTIONS]`];
  const parts = [usage.map((u, i) => `${i === 0 ? "Usage:  " : "        "}${u}`).join("\n"), "", wrap(cmd.meta.description, "", 0, width)];
  const flags = flagRows(cmd.args);
  if (flags.length > 0) parts.push("", "Options:", columns(flags, width));
  if (text?.examples.length) parts.push("", "Examples:", text.examples.map((e) => example(e, width)).join("\n"));
  return parts.join("\n");
}

/** `mycr container --help`: the object's verbs, each with what its command says. */
export function objectHelp(object: MycrCommand, verbs: Record<string, string>, commands: Record<string, MycrCommand>): string {
  const width = terminalWidth();
  const rows: [string, string][] = Object.entries(verbs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([verb, target]) => [verb, target === object.meta.name ? `(see above)` : target === verb || target.endsWith(` ${verb}`) ? summary(commands[target]!) : `${summary(commands[target]!)} (mycr ${target})`]);
  return [commandHelp(object), "", "Commands:", columns(rows, width), "", wrap(`Run 'mycr ${object.meta.name} COMMAND --help' for more information on a command.`, "", 0, width)].join("\n");
}
