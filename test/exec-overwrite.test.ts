// CVE-2019-5736: a container must not reach the host's mycr binary through the
// /proc/PID/exe of a process that `exec` brings in. A hostile PID 1 keeps trying to
// open every /proc/*/exe for writing (directly, and by holding an fd and writing
// through /proc/self/fd once the process is gone) while exec runs again and again.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, realpathSync } from "node:fs";
import { MYCR } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

const name = `hostile-${process.pid}`;
afterAll(async () => {
  await mycr(["rm", "-f", name]);
});

function hash(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

// Subshells: a failed redirection on `exec` would end the (non-interactive) shell itself.
const HOSTILE = `
while :; do
  for e in /proc/[0-9]*/exe; do
    [ "$e" = /proc/1/exe ] && continue
    (echo pwned >> "$e") 2>/dev/null && echo "WROTE $e"
    (exec 3< "$e" && sleep 0.01 && (echo pwned >> /proc/self/fd/3) && echo "WROTE-FD $e") 2>/dev/null
  done
done`;

test("exec never leaves the mycr binary open to the container (CVE-2019-5736)", async () => {
  const binary = realpathSync(MYCR);
  const before = hash(binary);
  const r = await mycr(["run", "-d", "--name", name, "--rootfs", busyboxRootfs(), "--", "sh", "-c", HOSTILE]);
  expect(r.exitCode).toBe(0);
  for (let i = 0; i < 15; i++) {
    const e = await mycr(["exec", name, "sh", "-c", "sleep 0.05; echo ok"]);
    expect(e.stdout).toBe("ok\n");
  }
  expect(hash(binary)).toBe(before);
  const logs = await mycr(["logs", name]);
  expect(logs.stdout).not.toContain("WROTE");
});
