// docker's credential helpers: `docker-credential-NAME get|store|erase`, named per
// registry by "credHelpers" or for all by "credsStore" in config.json. The protocol:
// get reads the server URL on stdin and prints {"Username","Secret"}; store reads
// {"ServerURL","Username","Secret"}; erase reads the server URL. A missing entry is a
// non-zero exit saying "credentials not found".
import { ContainerError } from "../runtime/errors";
import type { Credentials } from "./auth";

/** The name helpers know a registry by: Docker Hub is its v1 URL, others their host. */
export function helperServerUrl(domain: string): string {
  return domain === "docker.io" ? "https://index.docker.io/v1/" : domain;
}

function callHelper(helper: string, action: "get" | "store" | "erase", input: string, where: string): { ok: boolean; out: string } {
  const program = `docker-credential-${helper}`;
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    r = Bun.spawnSync([program, action], { stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe", env: process.env });
  } catch {
    throw new ContainerError(`credential helper ${program} (named in ${where}): not found in PATH; install it or remove it from the file`);
  }
  const out = `${r.stdout?.toString() ?? ""}`.trim();
  if (r.exitCode === 0) return { ok: true, out };
  if (/credentials not found/i.test(out + (r.stderr?.toString() ?? ""))) return { ok: false, out };
  const why = (out || (r.stderr?.toString() ?? "").trim() || `exit status ${r.exitCode}`).split("\n")[0];
  throw new ContainerError(`credential helper ${program} ${action}: ${why}`);
}

export function helperGet(helper: string, domain: string, where: string): Credentials | null {
  const r = callHelper(helper, "get", helperServerUrl(domain), where);
  if (!r.ok) return null;
  let body: { Username?: unknown; Secret?: unknown };
  try {
    body = JSON.parse(r.out) as typeof body;
  } catch {
    throw new ContainerError(`credential helper docker-credential-${helper} get: the answer is not JSON`);
  }
  if (typeof body.Username !== "string" || typeof body.Secret !== "string") {
    throw new ContainerError(`credential helper docker-credential-${helper} get: the answer lacks Username or Secret`);
  }
  // "<token>" marks an OAuth identity token, which needs docker's refresh-token flow.
  if (body.Username === "<token>") throw new ContainerError(`credential helper docker-credential-${helper}: identity tokens are not supported; store a user name and password or access token`);
  return { username: body.Username, password: body.Secret };
}

export function helperStore(helper: string, domain: string, creds: Credentials, where: string): void {
  callHelper(helper, "store", JSON.stringify({ ServerURL: helperServerUrl(domain), Username: creds.username, Secret: creds.password }), where);
}

/** False when the helper had nothing for the registry. */
export function helperErase(helper: string, domain: string, where: string): boolean {
  return callHelper(helper, "erase", helperServerUrl(domain), where).ok;
}
