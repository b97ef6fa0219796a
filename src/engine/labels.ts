// --label KEY[=VALUE], as docker: metadata kept in the container's record, shown by
// inspect (Config.Labels) and matched by `ps --filter label=KEY[=VALUE]`.
import { ContainerError } from "../runtime/errors";

export function parseLabels(texts: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const text of texts) {
    const eq = text.indexOf("=");
    const key = eq < 0 ? text : text.slice(0, eq);
    if (key === "" || /\s/.test(key)) throw new ContainerError(`--label ${JSON.stringify(text)}: expected KEY[=VALUE] with a key and no spaces in it`);
    labels[key] = eq < 0 ? "" : text.slice(eq + 1);
  }
  return labels;
}
