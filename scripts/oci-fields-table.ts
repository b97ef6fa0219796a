// Prints the field table of docs/oci.md from src/spec/fields.ts (the source `mycr
// features` uses too): `bun scripts/oci-fields-table.ts`, then paste it over the old one.
import { FIELDS } from "../src/spec/fields";

const cell = (s: string) => s.replaceAll("|", "\\|");
console.log("| field | cgroup v1 / hybrid | cgroup v2 | how, or why not |");
console.log("| --- | --- | --- | --- |");
for (const f of FIELDS) console.log(`| \`${f.path}\` | ${f.v1} | ${f.v2} | ${cell(f.how)} |`);
