// The steps of the single-threaded spawn (src/sys/spawn-namespaced.ts), each timed on
// its own, medians of N: compiling the C child with bun:ffi's cc (first call in a fresh
// process), a spawn of /bin/true through it with CLONE_VM and without (copying Bun's
// page tables), Bun.spawn of the same for reference, and a spawn into a new user
// namespace with its maps written from outside.
//   bun bench/userns-spawn.ts [--runs 20]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { median } from "./timing";
import { CLONE, prepareNamespacedSpawn, spawnNamespaced, watchChild, type NamespacedSpawn } from "../src/sys";

const { values } = parseArgs({ options: { runs: { type: "string", default: "20" }, "compile-only": { type: "boolean" } } });
if (values["compile-only"]) {
  const t = performance.now();
  prepareNamespacedSpawn();
  console.log((performance.now() - t).toFixed(2));
  process.exit(0);
}
const runs = Number(values.runs);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const base: NamespacedSpawn = { cloneFlags: 0, steps: [], path: "/bin/true", argv: ["true"], env: [], fds: [0, 1, 2] };
const spawnWith = (over: Partial<NamespacedSpawn>) => watchChild(spawnNamespaced({ ...base, ...over })).exited;
const maps = (pid: number) => {
  writeFileSync(`/proc/${pid}/uid_map`, "0 500000 65536");
  writeFileSync(`/proc/${pid}/gid_map`, "0 500000 65536");
};

const compile: number[] = [];
for (let i = 0; i < Math.min(runs, 10); i++) {
  const r = Bun.spawnSync([process.execPath, import.meta.path, "--compile-only"]);
  compile.push(Number(r.stdout.toString()));
}
prepareNamespacedSpawn();
const rows: Record<string, number[]> = { "Bun.spawn": [], "C child, CLONE_VM": [], "C child, copied memory": [], "C child, new user namespace + maps + setid": [] };
for (let i = 0; i < runs; i++) {
  rows["Bun.spawn"]!.push(await timed(() => Bun.spawn(["/bin/true"]).exited));
  rows["C child, CLONE_VM"]!.push(await timed(() => spawnWith({ cloneFlags: CLONE.VM })));
  rows["C child, copied memory"]!.push(await timed(() => spawnWith({})));
  rows["C child, new user namespace + maps + setid"]!.push(
    await timed(() => spawnWith({ cloneFlags: CLONE.VM | CLONE.NEWUSER, steps: [{ op: "sync" }, { op: "setid", uid: 0, gid: 0 }], onSync: maps })),
  );
}
console.log(`cc compile (first in a process): median ${median(compile).toFixed(1)} ms of ${compile.length}`);
for (const [name, xs] of Object.entries(rows)) console.log(`${name} (to exit of /bin/true): median ${median(xs).toFixed(2)} ms of ${runs}`);
