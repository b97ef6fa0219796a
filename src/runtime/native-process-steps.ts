// The last part of every native start (docs/performance.md, "Design of the native init"):
// from the process's cwd to execve, as the C child runs it in a new container (native-plan.ts)
// and in one it joins (exec-native.ts). Bun's init does the same in init.ts's setup's end,
// switchUser and execProcess: rlimits, umask, cwd, capabilities' bounding set, user, capabilities,
// no_new_privs, seccomp, the program found by execvp's search.
import { lastCapability, type ExecStub, type SpawnStep } from "../sys";
import type { Process, Spec } from "../spec/types";
import { DEFAULT_PATH } from "../spec/defaults";
import { prepareSecurity } from "./security";
import { cachedSeccompProgram } from "./seccomp";
import { rlimitSteps } from "./rlimits";

/** execvp's candidates for args[0] (lookpath.ts's search, done by the child). */
function candidates(name: string, env: string[]): string[] {
  if (name.includes("/")) return [name];
  const pathVar = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  return pathVar.split(":").map((dir) => `${dir || "."}/${name}`);
}

/**
 * The steps from umask to execve. `deathSignal`: SIGKILL again after the change of
 * credentials (which clears it), for a process whose life is bound to ours. `stub`: the
 * program started through it (sys/exec-stub.ts), for a container that outlives us.
 * `waitForStart`: `create`'s, the child waits on the exec fifo (our O_PATH fd of it) once
 * set up, as runc's does: before a seccomp filter loaded with no_new_privs, which comes last.
 */
export function processSteps(
  proc: Process,
  linux: Spec["linux"],
  opts: { seccompCacheDir: string; deathSignal: boolean; stub?: ExecStub; waitForStart?: { fifoFd: number } },
): SpawnStep[] {
  const cwd = proc.cwd || "/";
  const steps: SpawnStep[] = [
    ...rlimitSteps(proc.rlimits), // as root, as Bun's init applies them
    { op: "umask", what: "umask", mask: proc.user.umask ?? 0o022 },
    { op: "chdir", what: `process.cwd ${cwd}`, path: cwd, checkInsideRoot: true },
  ];
  const security = prepareSecurity(proc, null); // checks the capability names and that we hold them
  const seccomp = linux?.seccomp ? cachedSeccompProgram(linux.seccomp, opts.seccompCacheDir) : null;
  const loadSeccomp: SpawnStep | null = seccomp ? { op: "seccomp", what: "seccomp", program: seccomp.program, flags: seccomp.flags } : null;
  if (loadSeccomp && !security.noNewPrivileges) steps.push(loadSeccomp);
  if (security.capabilities) steps.push({ op: "bounding", what: "PR_CAPBSET_DROP", keep: security.capabilities.bounding, last: lastCapability() });
  const u = proc.user;
  steps.push(
    { op: "keepCaps", what: "PR_SET_KEEPCAPS", on: true },
    { op: "groups", what: `setgroups(${(u.additionalGids ?? []).join(",")})`, gids: u.additionalGids ?? [] },
    { op: "setid", uid: u.uid, gid: u.gid },
    { op: "keepCaps", what: "PR_SET_KEEPCAPS", on: false },
  );
  if (opts.deathSignal) steps.push({ op: "deathSignal", what: "PR_SET_PDEATHSIG", signal: 9 }); // a change of credentials clears it
  steps.push({ op: "chdir", what: `process.cwd ${cwd}`, path: cwd, checkInsideRoot: true }); // as the user: one it may not enter is an error
  if (security.capabilities) {
    const c = security.capabilities;
    steps.push({ op: "capset", what: "capset", effective: c.effective, permitted: c.permitted, inheritable: c.inheritable });
    steps.push({ op: "ambient", what: "PR_CAP_AMBIENT", caps: c.ambient });
  }
  if (security.noNewPrivileges) steps.push({ op: "noNewPrivileges", what: "PR_SET_NO_NEW_PRIVS" });
  const name = proc.args?.[0] ?? "";
  const search = { candidates: candidates(name, proc.env ?? []), explicit: name.includes("/") };
  if (opts.waitForStart) steps.push({ op: "waitForStart", what: "exec", ...opts.waitForStart, ...search });
  if (loadSeccomp && security.noNewPrivileges) steps.push(loadSeccomp);
  steps.push(opts.stub ? { op: "execVia", what: "exec", ...search, stub: opts.stub } : { op: "exec", what: "exec", ...search });
  return steps;
}
