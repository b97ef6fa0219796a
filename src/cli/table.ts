/** Columns padded to their widest cell, three spaces apart, as docker and runc print. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join("   ").trimEnd()).join("\n");
}
