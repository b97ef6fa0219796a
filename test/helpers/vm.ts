// The VM tests' shared steps: run a harness (test/vm/run-in-vm.sh or run-in-debian.sh)
// with a guest script, and read the script's "PASS name" / "FAIL name: ..." lines.
import { expect } from "bun:test";

export interface VmRun {
  output: string;
  errors: string;
  exitCode: number;
}

export const NOT_RUN: VmRun = { output: "", errors: "", exitCode: -1 };

export async function runVm(argv: string[], env: Record<string, string | undefined> = process.env): Promise<VmRun> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env });
  const [output, errors] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { output, errors, exitCode: await proc.exited };
}

/** The VM ran the script to its end, and every check passed; else why not (the harness says on stderr). */
export function expectVmRan(run: VmRun): void {
  if (!run.output.includes("MYCR-VM-EXIT=")) {
    throw new Error(`the VM did not run (exit ${run.exitCode}): ${run.errors.trim().split("\n").slice(-5).join(" | ")}`);
  }
  expect(run.exitCode).toBe(0);
}

/** The guest's line for check `name`, or a line saying it has none. */
export function checkLine(run: VmRun, name: string): string {
  const line = run.output.split("\n").find((l) => l.startsWith(`PASS ${name}`) || l.startsWith(`FAIL ${name}`));
  return line ?? `(no result for "${name}")`;
}

const which = (tool: string) => Bun.which(tool, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }) !== null;

/** Why the Debian VM (run-in-debian.sh) cannot be built or booted here, or null. */
export function debianVmUnavailable(): string | null {
  return process.arch !== "x64" ? `the VM is x86-64 (this is ${process.arch})`
    : !which("qemu-system-x86_64") ? "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    : !which("mmdebstrap") ? "mmdebstrap is not installed (apt-get install mmdebstrap)"
    : !which("mkfs.ext4") ? "mkfs.ext4 is not installed (apt-get install e2fsprogs)"
    : null;
}
