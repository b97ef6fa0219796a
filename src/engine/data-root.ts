// MYCR_ROOT and the supervisor's socket in it, with nothing else loaded: a foreground
// `run` looks for a supervisor to serve it (./served-run-client.ts) before any other module.

export function dataRoot(): string {
  return process.env.MYCR_ROOT || "/var/lib/mycr";
}

/** One supervisor per MYCR_ROOT listens here (./supervisor.ts). */
export function supervisorSocket(root = dataRoot()): string {
  return `${root}/supervisor.sock`;
}
