// `ps --filter KEY=VALUE`, as docker: the same key given twice matches either value
// (but every label= must match, as docker's labels do), different keys must all match. status= and exited= look at stopped containers too
// (without -a), as docker's do.
import type { ContainerState, ContainerView } from "../engine/containers";
import { formatReference, parseReference } from "../image/reference";
import { UsageError } from "./argv";

const KEYS = ["id", "name", "status", "label", "ancestor", "exited"] as const;
type Key = (typeof KEYS)[number];
const STATES: ContainerState[] = ["created", "restarting", "running", "paused", "exited", "dead"];

export type Filters = Map<Key, string[]>;

function bad(text: string, why: string): never {
  throw new UsageError(`--filter ${JSON.stringify(text)}: ${why}`);
}

export function parseFilters(texts: string[]): Filters {
  const filters: Filters = new Map();
  for (const text of texts) {
    const eq = text.indexOf("=");
    const key = text.slice(0, eq < 0 ? text.length : eq) as Key;
    if (!KEYS.includes(key)) bad(text, `unknown filter (${KEYS.join(", ")})`);
    if (eq < 0) bad(text, "expected KEY=VALUE");
    const value = text.slice(eq + 1);
    if (key === "status" && !STATES.includes(value as ContainerState)) bad(text, `status is one of ${STATES.join(", ")}`);
    if (key === "exited" && !/^-?\d+$/.test(value)) bad(text, "exited takes an exit code");
    if (key === "name") {
      try {
        new RegExp(value);
      } catch {
        bad(text, "name takes a regular expression");
      }
    }
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

/** Whether the filters look past running containers without -a. */
export function wantsStopped(filters: Filters): boolean {
  return filters.has("exited") || (filters.get("status") ?? []).some((s) => s !== "running" && s !== "paused" && s !== "restarting");
}

function normalImage(name: string): string {
  try {
    return formatReference(parseReference(name));
  } catch {
    return name;
  }
}

function matchOne(v: ContainerView, key: Key, value: string): boolean {
  switch (key) {
    case "id":
      return v.id.startsWith(value);
    case "name":
      return v.name !== undefined && (new RegExp(value).test(v.name) || new RegExp(value).test(`/${v.name}`));
    case "status":
      return v.state === value;
    case "exited":
      return v.state === "exited" && v.exitCode === Number(value);
    case "label": {
      const eq = value.indexOf("=");
      return eq < 0 ? value in v.labels : v.labels[value.slice(0, eq)] === value.slice(eq + 1);
    }
    case "ancestor":
      return v.image === value || v.image === normalImage(value);
  }
}

export function matchesFilters(v: ContainerView, filters: Filters): boolean {
  return [...filters].every(([key, values]) => (key === "label" ? values.every((x) => matchOne(v, key, x)) : values.some((x) => matchOne(v, key, x))));
}
