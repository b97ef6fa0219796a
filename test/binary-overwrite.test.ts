// CVE-2019-5736 class: a container that gets mycr's own binary executed inside it can
// reopen that binary through /proc/PID/exe and overwrite it on the host. The hostile
// image here ships its own dynamic loader (test/fixtures/fake-loader.c), which the kernel
// runs whenever mycr's binary is exec'd in the container; it writes "LOADER", tries to
// write to /proc/self/exe at once, and leaves a shell that keeps reopening a held fd of
// it for writing after every mycr process is gone. Each way of getting the binary
// executed is tried again and again through every face that brings mycr into a
// container: a foreground run, exec into a detached container, and the OCI face's
// create/start/exec (no mycr process stays behind there, so nothing keeps the binary
// busy). The attacks aim at a copy of the binary; its hash must not change.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, WORK } from "./helpers/env";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr, type Result } from "./helpers/mycr";
import { buildFakeLoader, buildProbe, canBuildProbe } from "./helpers/probe";
import { busyboxRootfs } from "./helpers/rootfs";

const dir = join(WORK, `binary-overwrite-${process.pid}`);
const victim = join(dir, "mycr");
const hostile = join(dir, "rootfs");
const out = join(dir, "out");
let victimHash = "";

/** The ways of getting the runtime's binary executed inside, each a program path in the hostile root. */
const ATTACKS: Record<string, string> = {
  "the binary by its /proc/self/exe name": "/proc/self/exe",
  "a symlink to /proc/self/exe": "/self-link",
  "an interpreter line the kernel ends at a NUL byte": "/nul-line",
  "a chain of five interpreters (deeper than a check follows)": "/deep1",
  "a script swapped with a benign one in a rename-exchange loop": "/race",
};
const ROUNDS = 4;
/** PID 1 of the attacked containers: keeps swapping /race and /evil (a check-then-execve race). */
const SWAPPER = ["/bin/probe", "exchange", "/race", "/evil"];

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

function script(path: string, text: string | Buffer): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

const fakeLoader = canBuildProbe ? buildFakeLoader() : null;
const suite = fakeLoader ? describe : describe.skip;

beforeAll(() => {
  if (!fakeLoader) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  copyFileSync(MYCR, victim);
  chmodSync(victim, 0o755);
  victimHash = sha256(victim);
  cpSync(busyboxRootfs(), hostile, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(hostile, "lib64"));
  copyFileSync(fakeLoader, join(hostile, "lib64/ld-linux-x86-64.so.2"));
  chmodSync(join(hostile, "lib64/ld-linux-x86-64.so.2"), 0o755);
  copyFileSync(buildProbe()!, join(hostile, "bin/probe"));
  chmodSync(join(hostile, "bin/probe"), 0o755);
  symlinkSync("/proc/self/exe", join(hostile, "self-link"));
  script(join(hostile, "nul-line"), Buffer.from("#!/proc/self/exe\0 junk\n"));
  for (let i = 1; i <= 5; i++) script(join(hostile, `deep${i}`), i < 5 ? `#!/deep${i + 1}\n` : "#!/proc/self/exe\n");
  script(join(hostile, "race"), "#!/bin/sh\necho benign\n");
  script(join(hostile, "evil"), "#!/proc/self/exe\n");
  mkdirSync(join(hostile, "out"), { recursive: true }); // other tests may have made it in the shared rootfs (a mount point)
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** MYCR_SEAL picks one of the ways of sealing the binary (best first: overlay, bind, memfd). */
let seal: string | undefined;
const asVictim = (args: string[], leavesContainer = false): Promise<Result> =>
  mycr(args, { binary: victim, leavesContainer, ...(seal ? { env: { MYCR_SEAL: seal } } : {}) });

function log(): string {
  return existsSync(join(out, "log")) ? readFileSync(join(out, "log"), "utf8") : "";
}

/** The held-fd shells retry for three seconds after their mycr is gone. */
const lingering = () => Bun.sleep(3500);

/**
 * `binaryRan`: whether the attacks got mycr's binary running inside. The native exec
 * (the default; MYCR_INIT=bun: Bun's init) brings none of it in: its /proc/self/exe
 * leads the attacks to a sealed stub (src/sys/exec-stub.ts) instead.
 */
function expectUntouched(results: Result[], binaryRan = true): void {
  expect(sha256(victim)).toBe(victimHash);
  for (const r of results) expect(r.stdout).not.toContain("PWNED");
  expect(log()).not.toContain("PWNED");
  // The attacks did get the binary running inside: the defence, not a refusal, stopped them.
  if (binaryRan) expect(log()).toContain("LOADER");
  else expect(log()).not.toContain("LOADER");
}

const bunExec = process.env.MYCR_INIT === "bun";

async function execEveryAttack(id: string, rounds = ROUNDS): Promise<Result[]> {
  const results: Result[] = [];
  for (let round = 0; round < rounds; round++) {
    // Into files: the held-fd shells keep a pipe open for seconds.
    for (const path of Object.values(ATTACKS)) results.push(await asVictim(["exec", id, path], true));
  }
  return results;
}

suite("the host's mycr binary cannot be overwritten from a container (CVE-2019-5736)", () => {
  test("foreground run: each way of executing the binary inside, repeatedly", async () => {
    rmSync(join(out, "log"), { force: true });
    const results: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of Object.values(ATTACKS)) {
        if (path === "/race") continue; // needs a container already running the swapper: below
        results.push(await asVictim(["run", "--rootfs", hostile, "--network", "none", "-v", `${out}:/out`, "--", path], true));
      }
    }
    await lingering();
    expectUntouched(results);
  }, 120_000);

  test("exec into a detached container: each way, repeatedly, while the container swaps scripts", async () => {
    rmSync(join(out, "log"), { force: true });
    const name = uniqueId("overwrite");
    const started = await asVictim(["run", "-d", "--name", name, "--rootfs", hostile, "--network", "none", "-v", `${out}:/out`, "--", ...SWAPPER]);
    expect(started.exitCode).toBe(0);
    try {
      const results = await execEveryAttack(name);
      await lingering();
      expectUntouched(results, bunExec);
    } finally {
      await asVictim(["rm", "-f", name]);
    }
  }, 120_000);

  async function ociAttack(rounds: number): Promise<void> {
    rmSync(join(out, "log"), { force: true });
    const bundle = await makeBundle(SWAPPER, (spec) => {
      spec.root = { path: hostile, readonly: false };
      spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
      // init runs startContainer hooks inside the container's root: the attacker's files.
      spec.hooks = { startContainer: [{ path: "/deep1" }, { path: "/nul-line" }] };
    });
    const id = uniqueId("overwrite-oci");
    expect((await asVictim(["create", "--bundle", bundle, id], true)).exitCode).toBe(0);
    try {
      expect((await asVictim(["start", id])).exitCode).toBe(0);
      const results = await execEveryAttack(id, rounds);
      await lingering();
      expectUntouched(results);
    } finally {
      await asVictim(["delete", "--force", id]);
    }
  }

  test("OCI create, start (with startContainer hooks), exec — nothing of mycr's left running to keep the binary busy: each way, repeatedly", async () => {
    await ociAttack(ROUNDS);
  }, 120_000);

  test("OCI create then start whose process is each way of executing the binary, repeatedly: the created child outlives its mycr", async () => {
    // No hooks: the native init's create (the default) holds the child, waiting for start,
    // after `create` has exited; started, it reaches the program through the sealed stub.
    rmSync(join(out, "log"), { force: true });
    const results: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of Object.values(ATTACKS)) {
        if (path === "/race") continue; // needs a container already running the swapper: above
        const bundle = await makeBundle([path], (spec) => {
          spec.root = { path: hostile, readonly: false };
          spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
        });
        const id = uniqueId("overwrite-create");
        const created = await asVictim(["create", "--bundle", bundle, id], true);
        expect(created.exitCode).toBe(0);
        try {
          results.push(created, await asVictim(["start", id]));
          await Bun.sleep(200); // the program (the attack) runs with no mycr left
        } finally {
          await asVictim(["delete", "--force", id]);
        }
      }
    }
    await lingering();
    expectUntouched(results, bunExec);
  }, 180_000);

  for (const way of ["bind", "memfd"]) {
    test(`the same through the OCI face with the fallback seal "${way}" (kernels without overlay's detached layers or the new mount API)`, async () => {
      seal = way;
      try {
        await ociAttack(1);
      } finally {
        seal = undefined;
      }
    }, 120_000);
  }

  test("a container process writes to every /proc/PID/exe it sees while exec runs again and again", async () => {
    const name = uniqueId("overwrite-scan");
    // Subshells: a failed redirection on `exec` would end the (non-interactive) shell itself.
    const scanner = `while :; do for e in /proc/[0-9]*/exe; do
      [ "$e" = /proc/1/exe ] && continue
      (echo PWNED >> "$e") 2>/dev/null && echo "PWNED $e" >> /out/log
      (exec 3< "$e" && sleep 0.01 && (echo PWNED >> /proc/self/fd/3) && echo "PWNED-FD $e" >> /out/log) 2>/dev/null
    done; done`;
    rmSync(join(out, "log"), { force: true });
    writeFileSync(join(out, "log"), "LOADER (not used here)\n");
    const started = await asVictim(["run", "-d", "--name", name, "--rootfs", hostile, "--network", "none", "-v", `${out}:/out`, "--", "sh", "-c", scanner]);
    expect(started.exitCode).toBe(0);
    try {
      const results: Result[] = [];
      for (let i = 0; i < 15; i++) {
        const r = await asVictim(["exec", name, "sh", "-c", "sleep 0.05; echo ok"]);
        expect(r.stdout).toBe("ok\n");
        results.push(r);
      }
      expectUntouched(results);
    } finally {
      await asVictim(["rm", "-f", name]);
    }
  }, 120_000);
});
