// Whether a process can be started through the sealed exec stub (sys/exec-stub.ts): the
// native exec's processes and `create`'s, which outlive the mycr that made them.
import { execStub } from "../sys";
import type { Seccomp, Spec } from "../spec/types";

const LETS_THROUGH = ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"];

/** Whether a seccomp profile surely lets `name` through (a rule with arguments is not sure). */
function seccompAllows(profile: Seccomp, name: string): boolean {
  const rules = (profile.syscalls ?? []).filter((r) => r.names.includes(name));
  if (rules.some((r) => LETS_THROUGH.includes(r.action) && !r.args?.length)) return true;
  return LETS_THROUGH.includes(profile.defaultAction) && rules.every((r) => LETS_THROUGH.includes(r.action));
}

/** Why the stub cannot start this spec's process, or null. */
export function stubRefusal(spec: Spec): string | null {
  if (!execStub()) return `an architecture without mycr's exec stub (${process.arch})`;
  // the stub runs under the profile: its fcntl and execve after our execveat
  const seccomp = spec.linux?.seccomp;
  if (seccomp && !["execveat", "execve", "fcntl"].every((n) => seccompAllows(seccomp, n))) return "a seccomp profile that may refuse execveat, execve or fcntl (the exec stub's)";
  return null;
}
