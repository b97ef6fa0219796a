// podman as the reference client for images: it builds, loads and saves with runc (crun
// refuses this host's hybrid cgroups), with rlimits this host can grant (it lacks
// CAP_SYS_RESOURCE). Images move between podman and mycr as docker-archives.
import { MYCR, mycrEnv } from "./env";

export const havePodman = Bun.spawnSync(["sh", "-c", "command -v podman && command -v runc"]).exitCode === 0;

/** Flags podman's RUN steps and containers need here. */
export const PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];

export interface PodmanResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function podman(args: string[], timeoutMs = 120_000): PodmanResult {
  const r = Bun.spawnSync(["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", ...args], { timeout: timeoutMs });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export function podmanOk(args: string[], timeoutMs?: number): string {
  const r = podman(args, timeoutMs);
  if (r.exitCode !== 0) throw new Error(`podman ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

/** `mycr save REF | podman load`: podman gets mycr's image. */
export function loadIntoPodman(ref: string): void {
  const r = Bun.spawnSync(["sh", "-c", `"${MYCR}" save "$1" | podman load`, "sh", ref], { env: mycrEnv() });
  if (r.exitCode !== 0) throw new Error(`mycr save ${ref} | podman load: ${r.stderr}`);
}

/** `podman save REF | mycr load`: mycr gets podman's image. */
export function loadIntoMycr(ref: string): void {
  const r = Bun.spawnSync(["sh", "-c", `podman save --format docker-archive "$1" | "${MYCR}" load`, "sh", ref], { env: mycrEnv() });
  if (r.exitCode !== 0) throw new Error(`podman save ${ref} | mycr load: ${r.stderr}`);
}
