import { readFileSync, statSync } from "node:fs";
import { containerStatus, StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { out } from "./output";
import { formatTable } from "./table";

export default defineMycrCommand({
  meta: { name: "list", description: "List containers known to the runtime" },
  args: {
    format: { type: "enum", alias: "f", options: ["table", "json"], default: "table", description: "Output format" },
    quiet: { type: "boolean", alias: "q", description: "Only ids" },
  },
  needsRoot: true,
  rootless: { caller: true }, // as runc: the caller on the host, the config brings its user namespace
  run(args, global) {
    const store = new StateStore(global.stateRoot);
    const records = store.ids().flatMap((id) => store.tryLoad(id) ?? []);
    if (args.quiet) {
      for (const r of records) out(r.id);
      return 0;
    }
    const rows = records.map((r) => {
      const status = containerStatus(r);
      return {
        ociVersion: r.spec.ociVersion,
        id: r.id,
        pid: status === "stopped" ? 0 : (r.init?.pid ?? 0),
        status,
        bundle: r.bundle,
        rootfs: r.rootfs,
        created: r.created,
        owner: ownerOf(store.dir(r.id)),
      };
    });
    if (single(args.format) === "json") out(JSON.stringify(rows));
    else out(formatTable(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])));
    return 0;
  },
});

/** Who made the container, as runc's list says: the owner of its state directory, by name. */
function ownerOf(dir: string): string {
  let uid: number;
  try {
    uid = statSync(dir).uid;
  } catch {
    return "";
  }
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    // the number says it too
  }
  const line = passwd.split("\n").find((l) => l.split(":")[2] === String(uid));
  return line?.split(":")[0] ?? String(uid);
}
