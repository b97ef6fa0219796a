// `mycr build` against `podman build`: the same Dockerfiles (multi-stage, ARG, ENV,
// WORKDIR, COPY with globs/--from/--chown, ADD of an archive, RUN in both forms, USER,
// EXPOSE, LABEL, CMD, ENTRYPOINT, .dockerignore, continuations, `# escape=`) give images
// whose files (owners and modes) and configs match; the cache (hits, a changed file
// rebuilding from its step on, --no-cache); a failing RUN; errors naming FILE:LINE; and
// symlinks in a stage that point at host paths never lead COPY --from out of the image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, WORK, mycrEnv } from "./helpers/env";
import { listing, readSavedImage, type SavedImage } from "./helpers/image-fs";
import { mycr, type Result } from "./helpers/mycr";
import { PODMAN_LIMITS, havePodman, loadIntoPodman, podman, podmanOk } from "./helpers/podman";
import { busyboxRootfs } from "./helpers/rootfs";

const TAG = `${process.pid}`;
const BASE = `localhost/mycr-build-base:${TAG}`;
const ctxRoot = join(WORK, `build-${TAG}`);
const images: string[] = [];
const podmanImages: string[] = [];

async function build(args: string[], timeoutMs = 240_000): Promise<Result> {
  return mycr(["build", ...args], { timeoutMs });
}

async function ok(args: string[]): Promise<Result> {
  const r = await build(args);
  if (r.exitCode !== 0) throw new Error(`mycr build ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

/** A context directory with these files (paths relative to it). */
function context(name: string, files: Record<string, string>): string {
  const dir = join(ctxRoot, name);
  rmSync(dir, { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function savedMycr(ref: string): Promise<SavedImage> {
  const file = join(ctxRoot, `m-${Math.random().toString(36).slice(2)}.tar`);
  try {
    const r = Bun.spawnSync([MYCR, "save", "-o", file, ref], { env: mycrEnv() });
    if (r.exitCode !== 0) throw new Error(`mycr save: ${r.stderr}`);
    return await readSavedImage(file);
  } finally {
    rmSync(file, { force: true });
  }
}

async function savedPodman(ref: string): Promise<SavedImage> {
  const file = join(ctxRoot, `p-${Math.random().toString(36).slice(2)}.tar`);
  try {
    podmanOk(["save", "--format", "docker-archive", "-o", file, ref]);
    return await readSavedImage(file);
  } finally {
    rmSync(file, { force: true });
  }
}

/** Absent, empty text, [] and {} all mean "not set" (podman writes some of them, mycr none). */
function unset(v: unknown): boolean {
  return v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v as object).length === 0);
}

/** The config fields both builders must agree on (podman adds its own version label). */
function configOf(image: SavedImage): Record<string, unknown> {
  const c = image.config.config ?? {};
  const labels = { ...((c.Labels as Record<string, string> | undefined) ?? {}) };
  delete labels["io.buildah.version"];
  const pick = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "StopSignal", "Volumes", "Healthcheck", "Shell"];
  return { ...Object.fromEntries(pick.map((k) => [k, unset(c[k]) ? null : c[k]])), Labels: labels };
}

/**
 * podman's RUN leaves the empty files and directory it mounted on (/etc/hosts,
 * /etc/hostname, /etc/resolv.conf, /run) in the image when the base lacks them; docker
 * and mycr leave mount points out. Those entries are dropped from podman's listing.
 */
function withoutPodmanMountPoints(image: SavedImage, ours: SavedImage): string[] {
  const leftovers = ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run"];
  return listing(new Map([...image.files].filter(([p, f]) => !(leftovers.includes(p) && !ours.files.has(p) && (f.type === "dir" || f.size === 0)))));
}

/** The two builders on the same context: listings and configs side by side. */
async function bothBuild(dir: string, name: string, extra: string[] = []): Promise<{ ours: SavedImage; theirs: SavedImage; stderr: string }> {
  const ref = `localhost/mycr-build-${name}:${TAG}`;
  images.push(ref);
  const r = await ok(["-t", ref, "--build-arg", `BASE=${BASE}`, ...extra, dir]);
  podmanImages.push(ref);
  podmanOk(["build", "--format", "docker", ...PODMAN_LIMITS, "-t", ref, "--build-arg", `BASE=${BASE}`, ...extra, dir], 600_000);
  return { ours: await savedMycr(ref), theirs: await savedPodman(ref), stderr: r.stderr };
}

/** A host directory holding a file `secret` with a random text no image may ever contain. */
function hostSecret(what: string): { hostDir: string; SECRET: string } {
  const hostDir = join(WORK, `build-host-${what}-${TAG}`);
  mkdirSync(hostDir, { recursive: true });
  const SECRET = `${what}-secret-${TAG}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(hostDir, "secret"), SECRET);
  return { hostDir, SECRET };
}

beforeAll(() => {
  mkdirSync(ctxRoot, { recursive: true });
  const tar = Bun.spawnSync(["tar", "-C", busyboxRootfs(), "-c", "."]);
  const r = Bun.spawnSync([MYCR, "import", "-", BASE], { stdin: tar.stdout, env: mycrEnv() });
  if (r.exitCode !== 0) throw new Error(`import: ${r.stderr}`);
  images.push(BASE);
  if (havePodman) {
    loadIntoPodman(BASE);
    podmanImages.push(BASE);
  }
});

afterAll(async () => {
  for (const i of images.reverse()) await mycr(["rmi", "-f", i]);
  await mycr(["image", "prune", "-a"]);
  for (const i of podmanImages) podman(["rmi", "-f", i]);
  rmSync(ctxRoot, { recursive: true, force: true });
}, 120_000);

const APP_TAR = (() => {
  const dir = join(WORK, `build-archive-src-${process.pid}`);
  return () => {
    mkdirSync(join(dir, "pkg/lib"), { recursive: true });
    writeFileSync(join(dir, "pkg/lib/util.sh"), "echo util\n");
    writeFileSync(join(dir, "pkg/README"), "readme\n");
    const r = Bun.spawnSync(["tar", "-C", dir, "--owner=123", "--group=456", "-czf", "-", "pkg"]);
    rmSync(dir, { recursive: true, force: true });
    return r.stdout;
  };
})();

const MULTI_STAGE = `# syntax=docker/dockerfile:1
ARG BASE
FROM \${BASE} AS builder
ARG VERSION=1.0
ENV APP_VERSION=$VERSION \\
    # a comment inside a continuation is dropped
    GREETING="hello world"
WORKDIR /build
COPY src/ ./src/
RUN echo "version $APP_VERSION" > out.txt \\
 && cat src/*.txt >> out.txt \\
 && echo scratch > /tmp/left-in-tmp \\
 && rm -rf /var && mkdir /var && echo new > /var/only \\
 && rm /etc/group
RUN ["sh", "-c", "echo exec form > /build/exec.txt"]

FROM \${BASE} AS unused
RUN exit 9

FROM \${BASE}
LABEL org.example.name="demo app" version=2
COPY --from=builder /build/out.txt /build/exec.txt /app/
COPY --from=builder /tmp/left-in-tmp /app/tmp-file
COPY --chown=app:app src/*.txt /app/data/
COPY --chmod=0750 run.sh /app/
ADD app.tar.gz /opt/
USER app
WORKDIR /home/app/work
RUN echo "as $(id -u)" > whoami.txt && ls -d /opt/pkg/lib > /home/app/work/listed
EXPOSE 8080 9090/udp
VOLUME /data
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O- http://localhost:8080/ || exit 1
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/out.txt"]
`;

function multiStageContext(name: string): string {
  const dir = context(name, {
    Dockerfile: MULTI_STAGE,
    "src/a.txt": "alpha\n",
    "src/b.txt": "beta\n",
    "src/notes.md": "not matched by *.txt\n",
    "run.sh": "#!/bin/sh\necho run\n",
    "secret.key": "must not reach the image\n",
    "logs/debug.log": "ignored\n",
    ".dockerignore": "# build context rules\nsecret.key\nlogs\n**/*.md\n",
  });
  writeFileSync(join(dir, "app.tar.gz"), APP_TAR());
  return dir;
}

describe.if(havePodman)("build, compared with podman build", () => {
  test("multi-stage: the same files (owners, modes) and config", async () => {
    const { ours, theirs } = await bothBuild(multiStageContext("multi"), "multi");
    expect(listing(ours.files)).toEqual(withoutPodmanMountPoints(theirs, ours));
    expect(configOf(ours)).toEqual(configOf(theirs));
    // what the Dockerfile did, read back
    expect(configOf(ours)).toMatchObject({ User: "app", WorkingDir: "/home/app/work", Entrypoint: ["/bin/sh", "-c"], Cmd: ["cat /app/out.txt"], StopSignal: "SIGQUIT" });
    expect(ours.files.get("/app/run.sh")).toMatchObject({ mode: "750", owner: "0:0" });
    expect(ours.files.get("/app/data/a.txt")).toMatchObject({ owner: "1000:1000" });
    expect(ours.files.get("/opt/pkg/lib/util.sh")).toMatchObject({ owner: "123:456" });
    expect(ours.files.has("/app/data/notes.md")).toBe(false);
    expect([...ours.files.keys()].some((p) => p.includes("secret") || p.includes("debug.log"))).toBe(false);
  }, 900_000);

  test("# escape=` and a Dockerfile without RUN", async () => {
    const dir = context("escape", {
      Dockerfile: "# escape=`\nARG BASE\nFROM ${BASE}\nENV WIN_PATH=C:\\tools\\bin `\n    OTHER=x\nLABEL a=b `\n      c=d\nCOPY f.txt /f.txt\nCMD echo hello\n",
      "f.txt": "f\n",
    });
    const { ours, theirs } = await bothBuild(dir, "escape");
    // With ` as the escape character a backslash is an ordinary one (docker's rule);
    // podman's parser drops it (C:toolsbin): that value is compared with docker's.
    const winPath = (c: Record<string, unknown>) => ({ ...c, Env: (c.Env as string[]).filter((e) => !e.startsWith("WIN_PATH=")) });
    expect(winPath(configOf(ours))).toEqual(winPath(configOf(theirs)));
    expect(configOf(ours).Env).toContain("WIN_PATH=C:\\tools\\bin");
    expect(listing(ours.files)).toEqual(listing(theirs.files));
  }, 600_000);
});

describe("build", () => {
  test("the image runs, --target builds only the stages it needs, images -a lists the steps", async () => {
    const dir = multiStageContext("target");
    const ref = `localhost/mycr-build-run:${TAG}`;
    images.push(ref);
    const r = await ok(["-t", ref, "--build-arg", `BASE=${BASE}`, dir]);
    expect(r.stderr).toMatch(/^STEP 1\/\d+: FROM \$\{BASE\} AS builder$/m);
    expect(r.stderr).not.toContain("exit 9"); // the unused stage is skipped
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const run = await mycr(["run", "--image", ref]);
    expect(run.stdout).toBe("version 1.0\nalpha\nbeta\n");
    const who = await mycr(["run", "--image", ref, "cat /home/app/work/whoami.txt /home/app/work/listed"]);
    expect(who.stdout).toBe("as 1000\n/opt/pkg/lib\n");
    const target = `localhost/mycr-build-target:${TAG}`;
    images.push(target);
    const t = await ok(["-t", target, "--build-arg", `BASE=${BASE}`, "--build-arg", "VERSION=2.5", "--target", "builder", dir]);
    expect(t.stderr).toContain("STEP 7/7: RUN [");
    const out = await mycr(["run", "--image", target, "cat", "/build/out.txt"]);
    expect(out.stdout).toBe("version 2.5\nalpha\nbeta\n");
    const listed = (await mycr(["images"])).stdout;
    const all = (await mycr(["images", "-a"])).stdout;
    expect(all.split("\n").length).toBeGreaterThan(listed.split("\n").length);
  }, 300_000);

  test("cache: a second build takes every step from it; a changed file rebuilds from its COPY on; --no-cache none", async () => {
    const dir = context("cache", {
      Dockerfile: "ARG BASE\nFROM ${BASE}\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copied\nCOPY b.txt /b.txt\nRUN echo done > /done\n",
      "a.txt": "a1\n",
      "b.txt": "b1\n",
    });
    const ref = `localhost/mycr-build-cache:${TAG}`;
    images.push(ref);
    const args = ["-t", ref, "--build-arg", `BASE=${BASE}`, dir];
    const first = await ok(args);
    expect(first.stderr).not.toContain("Using cache");
    const second = await ok(args);
    expect(second.stderr.match(/--> Using cache/g)?.length).toBe(5);
    expect(second.stdout).toBe(first.stdout); // the same image
    writeFileSync(join(dir, "b.txt"), "b2\n");
    const third = await ok(args);
    // RUN one, COPY a, RUN copied from the cache; COPY b and what follows again
    expect(third.stderr.match(/--> Using cache/g)?.length).toBe(3);
    expect(third.stderr).toMatch(/STEP 5\/6: COPY b.txt \/b.txt\n--> [0-9a-f]{12}\n/);
    expect(third.stdout).not.toBe(first.stdout);
    expect((await mycr(["run", "--image", ref, "cat", "/b.txt", "/copied"])).stdout).toBe("b2\na1\n");
    const fourth = await ok(["--no-cache", ...args]);
    expect(fourth.stderr).not.toContain("Using cache");
  }, 300_000);

  test("a failing RUN: its exit code, FILE:LINE and the command; nothing tagged or left behind", async () => {
    const dir = context("fail", { Dockerfile: "ARG BASE\nFROM ${BASE}\nRUN echo before\nRUN echo failing >&2; exit 3\nRUN echo never\n" });
    const ref = `localhost/mycr-build-fail:${TAG}`;
    const before = readdirSync(join(TEST_ROOT, "containers")).length;
    const r = await build(["-t", ref, "--build-arg", `BASE=${BASE}`, dir]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("failing\n");
    expect(r.stderr).toContain("mycr: Dockerfile:4: RUN echo failing >&2; exit 3: exit code 3");
    expect(r.stderr).not.toContain("never");
    expect((await mycr(["images"])).stdout).not.toContain("mycr-build-fail");
    expect(readdirSync(join(TEST_ROOT, "containers")).length).toBe(before);
  }, 120_000);

  test("RUN --network none: the step's container has only loopback", async () => {
    const dir = context("net", { Dockerfile: "ARG BASE\nFROM ${BASE}\nRUN ls /sys/class/net > /nets\n" });
    const ref = `localhost/mycr-build-net:${TAG}`;
    images.push(ref);
    await ok(["--network", "none", "-t", ref, "--build-arg", `BASE=${BASE}`, dir]);
    expect((await mycr(["run", "--image", ref, "cat", "/nets"])).stdout).toBe("lo\n");
  }, 120_000);

  test("errors name the file, line and instruction; exit 125; nothing built", async () => {
    const cases: [Record<string, string>, string[], string][] = [
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\nFROBNICATE x\n" }, [], "Dockerfile:3: FROBNICATE: unknown instruction"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\nENV A=1\nCOPY missing.txt /x\n" }, [], "Dockerfile:4: COPY: missing.txt: no such file or directory in the build context"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\nADD https://example.com/x.tar /x\n" }, [], "Dockerfile:3: ADD: https://example.com/x.tar: URLs and git sources are not supported"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\nCOPY secret /x\n", secret: "s", ".dockerignore": "secret\n" }, [], "(excluded by .dockerignore)"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\nRUN --mount=type=cache,target=/c true\n" }, [], "Dockerfile:3: RUN: --mount is not supported"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\nEXPOSE eighty\n" }, [], 'Dockerfile:3: EXPOSE: "eighty" is not PORT[/PROTO]'],
      [{ Dockerfile: "RUN true\n" }, [], "Dockerfile:1: RUN: the first instruction must be FROM"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE} AS a\n" }, ["--target", "nope"], "--target nope: Dockerfile has no stage of that name (a)"],
      [{ "Containerfile.txt": "x" }, [], "no such file (a Dockerfile or Containerfile in the context, or -f FILE)"],
      [{ Dockerfile: "ARG BASE\nFROM ${BASE}\n" }, ["-t", "Bad:Name:x"], "build -t:"],
    ];
    let n = 0;
    for (const [files, extra, message] of cases) {
      const dir = context(`err-${n++}`, files);
      const r = await build([...extra, "--build-arg", `BASE=${BASE}`, dir]);
      expect(r.exitCode).toBe(125);
      expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("mycr:")).length).toBe(1);
      expect(r.stderr).toContain(message);
    }
    const missing = await build([join(ctxRoot, "does-not-exist")]);
    expect(missing.exitCode).toBe(125);
    expect(missing.stderr).toContain("not a directory (give the build context");
  }, 300_000);

  test("symlink escape attack: links in a stage to host paths never lead COPY --from (or a COPY destination) out of the image", async () => {
    const { hostDir, SECRET } = hostSecret("stage");
    try {
      const shapes = [
        `ln -s ${hostDir}/secret /leak`, // absolute link to a host file
        `ln -s ../../../../../../../..${hostDir}/secret /leak`, // relative, climbing past the root
        `mkdir -p /d && ln -s ${hostDir} /d/dir && ln -s /d/dir/secret /leak`, // a chain of links
        `ln -s / /root-link && ln -s /root-link${hostDir}/secret /leak`, // through a link to /
        `ln -s /leak /leak2 && ln -s /leak2 /leak3 && rm /leak2 && ln -s ${hostDir}/secret /leak2 && ln -s /leak3 /leak`, // a loop swapped for a host link
      ];
      for (const [i, shape] of shapes.entries()) {
        const dir = context(`escape-${i}`, { Dockerfile: `ARG BASE\nFROM \${BASE} AS s\nRUN ${shape}\nFROM \${BASE}\nRUN ln -s ${hostDir} /dest\nCOPY --from=s /leak /got\n`, "f.txt": "f\n" });
        const ref = `localhost/mycr-build-escape-${i}:${TAG}`;
        const r = await build(["-t", ref, "--build-arg", `BASE=${BASE}`, dir]);
        if (r.exitCode === 0) {
          images.push(ref);
          const img = await savedMycr(ref);
          expect(img.files.get("/got")?.type).not.toBe("file");
        } else {
          expect(r.stderr).toMatch(/Dockerfile:6: COPY: \/leak: (no such file or directory in the source|too many levels of symbolic links)/);
        }
        // The destination side: a COPY into a directory the image links to a host directory.
        const dest = context(`escape-dest-${i}`, { Dockerfile: `ARG BASE\nFROM \${BASE}\nRUN ln -s ${hostDir} /dest\nCOPY f.txt /dest/planted\n`, "f.txt": "planted\n" });
        const d = await build(["--build-arg", `BASE=${BASE}`, dest]);
        expect(d.exitCode).toBe(0);
        expect(readdirSync(hostDir)).toEqual(["secret"]);
        expect(await Bun.file(join(hostDir, "secret")).text()).toBe(SECRET);
      }
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  }, 600_000);

  test("symlink escape attack: symlinks in the build context to host paths are never followed by COPY or ADD", async () => {
    const { hostDir, SECRET } = hostSecret("ctx");
    try {
      const dir = context("ctx-links", { Dockerfile: "ARG BASE\nFROM ${BASE}\n", "sub/ok.txt": "ok\n" });
      Bun.spawnSync(["ln", "-s", hostDir, join(dir, "to-host")]);
      Bun.spawnSync(["ln", "-s", "/", join(dir, "to-root")]);
      Bun.spawnSync(["ln", "-s", join(hostDir, "secret"), join(dir, "sub", "file-link")]);
      const attempts = [
        ["COPY to-host/secret /x", "to-host is a symlink"],
        [`COPY to-root${hostDir}/secret /x`, "to-root is a symlink"],
        ["ADD to-host/secret /x", "to-host is a symlink"],
        ["COPY to-host/* /x/", "no files in the build context match"],
      ];
      for (const [line, message] of attempts) {
        writeFileSync(join(dir, "Dockerfile"), `ARG BASE\nFROM \${BASE}\n${line}\n`);
        const r = await build(["--no-cache", "--build-arg", `BASE=${BASE}`, dir]);
        expect(r.exitCode).toBe(125);
        expect(r.stderr).toContain(`Dockerfile:3: ${line!.split(" ")[0]}: `);
        expect(r.stderr).toContain(message!);
      }
      // Copying the links themselves copies links, never what they point at.
      for (const line of ["COPY sub /copied/", "COPY to-host /copied/", "COPY . /copied/"]) {
        writeFileSync(join(dir, "Dockerfile"), `ARG BASE\nFROM \${BASE}\n${line}\n`);
        const ref = `localhost/mycr-build-ctxlink:${TAG}`;
        images.push(ref);
        await ok(["--no-cache", "-t", ref, "--build-arg", `BASE=${BASE}`, dir]);
        const file = join(ctxRoot, "ctxlink.tar");
        Bun.spawnSync([MYCR, "save", "-o", file, ref], { env: mycrEnv() });
        const bytes = await Bun.file(file).text();
        rmSync(file, { force: true });
        expect(bytes.includes(SECRET)).toBe(false);
      }
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  }, 300_000);
});
