// A real registry for the image tests: Debian's docker-registry (distribution v2) on
// 127.0.0.1 and a free port, with its own config and data dir; stopped and removed after.
import type { Subprocess } from "bun";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./env";

export interface TestRegistry {
  host: string;
  dir: string;
  stop: () => Promise<void>;
}

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}

export async function startRegistry(opts: { users?: Record<string, string> } = {}): Promise<TestRegistry> {
  const dir = join(WORK, `registry-${process.pid}-${Date.now()}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  const port = freePort();
  let auth = "";
  if (opts.users) {
    const lines = Object.entries(opts.users).map(([u, p]) => `${u}:${Bun.password.hashSync(p, { algorithm: "bcrypt", cost: 4 })}`);
    writeFileSync(join(dir, "htpasswd"), lines.join("\n") + "\n");
    auth = `auth:\n  htpasswd:\n    realm: mycr-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  // Its log goes to a file: it logs every HEAD of a blob it lacks (each push starts with
  // those), and an unread pipe would fill up and stall it mid-push.
  const logFile = join(dir, "registry.log");
  const proc: Subprocess = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: Bun.file(logFile) });
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {}
    if (proc.exitCode !== null || Date.now() > deadline) {
      const err = await Bun.file(logFile).text().catch(() => "");
      proc.kill(9);
      throw new Error(`docker-registry did not start: ${err}`);
    }
    await Bun.sleep(50);
  }
  return {
    host,
    dir,
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill(9), 3000);
      await proc.exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pushes an OCI layout's image with skopeo (all platforms of an index). */
export function push(layoutDir: string, tag: string, dest: string, creds?: string): void {
  const args = ["skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false", ...(creds ? ["--dest-creds", creds] : []), `oci:${layoutDir}:${tag}`, `docker://${dest}`];
  const r = Bun.spawnSync(args, { stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString()}`);
}
