// `mycr run` in the foreground: an overlay root over the chosen lower layer, a spec
// from the flags, the runtime to run it, and everything removed afterwards.
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ContainerError } from "../runtime/errors";
import { processRef } from "../runtime/procfs";
import { runForeground, type ForegroundResult } from "../runtime/run";
import type { Resources } from "../spec/types";
import { forwardSignals } from "../runtime/signals";
import { StateStore } from "../runtime/state";
import { trace } from "../runtime/trace";
import { newContainerId } from "./ids";
import { containerDir, dataRoot } from "./paths";
import { writeRecord } from "./record";
import { createRootfsDirs, overlayRootMount, removeContainerFiles, rootfsPaths } from "./rootfs";
import type { SecuritySettings } from "./security-flags";
import { buildSpec } from "./spec";
import { parseTmpfs, parseVolume } from "./mounts";
import { checkName, checkUser } from "./names";
import { chooseStdio } from "./stdio";
import { commandFromImage, prepareImage, type ImageRequest, type PreparedImage } from "./image";
import { parseUlimits } from "./ulimits";

export interface RunRequest {
  args: string[];
  resources?: Resources;
  oomScoreAdj?: number;
  /** Lower layer of the root; the host's "/" when absent. */
  rootfs?: string;
  hostname?: string;
  security: SecuritySettings;
  store: StateStore;
  name?: string;
  /** -t / -i; undefined: not given (see chooseStdio). */
  tty?: boolean;
  interactive?: boolean;
  env?: string[];
  envFiles?: string[];
  workdir?: string;
  user?: string;
  volumes?: string[];
  tmpfs?: string[];
  readOnly?: boolean;
  entrypoint?: string;
  ulimits?: string[];
  keep?: boolean;
  /** Told where the files of a --keep container are, once it exited. */
  onKept?: (upperDir: string) => void;
  init?: boolean;
  /** --image: the root is the image's layers and its config supplies defaults. */
  image?: ImageRequest;
}

function checkRootfsDir(path: string): string {
  const abs = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new ContainerError(`--rootfs ${path}: no such directory`);
  }
  if (!isDir) throw new ContainerError(`--rootfs ${path}: not a directory`);
  return abs;
}

function checkWorkdir(dir: string): string {
  if (!isAbsolute(dir)) throw new ContainerError(`--workdir ${dir}: must be an absolute path`);
  return dir;
}

export interface RunOutcome extends ForegroundResult {
  id: string;
}

export async function runContainer(req: RunRequest): Promise<RunOutcome> {
  trace("engine: run");
  if (req.image && req.rootfs !== undefined) throw new ContainerError("--image and --rootfs: give one or the other");
  const image = req.image ? await prepareImage(req.image) : undefined;
  try {
    return await runWithRoot(req, image);
  } finally {
    image?.release();
  }
}

async function runWithRoot(req: RunRequest, image: PreparedImage | undefined): Promise<RunOutcome> {
  const fromImage = image ? commandFromImage(image.config, { args: req.args, entrypoint: req.entrypoint }) : undefined;
  // --entrypoint replaces the program; the command's words become its arguments.
  const args = fromImage ? fromImage.args : req.entrypoint ? [req.entrypoint, ...req.args] : req.args;
  if (args.length === 0) throw new ContainerError(`no command given${image ? ` and image ${image.name} has none` : ""}: mycr run [flags] COMMAND [ARG...]`);
  // Every flag is checked before anything exists: bad input leaves nothing behind.
  const lowers = image ? image.lowers : [req.rootfs ? checkRootfsDir(req.rootfs) : "/"];
  const lower = lowers[0];
  const name = req.name !== undefined ? checkName(req.name) : undefined;
  const userText = req.user ?? fromImage?.user;
  const user = userText !== undefined ? checkUser(userText) : undefined;
  const cwd = req.workdir !== undefined ? checkWorkdir(req.workdir) : fromImage?.cwd;
  const mounts = [...(req.volumes ?? []).map(parseVolume), ...(req.tmpfs ?? []).map(parseTmpfs)];
  const rlimits = parseUlimits(req.ulimits ?? []);
  const stdio = chooseStdio(req.tty, req.interactive);
  const keep = req.keep === true;
  const signals = forwardSignals(); // before anything exists that a signal could strand
  const id = newContainerId();
  const owner = processRef(process.pid)!;
  const dir = containerDir(id);
  const paths = rootfsPaths(dir);
  const spec = buildSpec({
    id,
    args,
    rootfs: paths.merged,
    rootMount: overlayRootMount(paths, lowers),
    hostname: req.hostname,
    // With the host's root as the lower layer, mycr's own stores would show through.
    hidePaths: lower === "/" ? [dataRoot(), req.store.root] : [],
    resources: req.resources,
    oomScoreAdj: req.oomScoreAdj,
    security: req.security,
    env: req.env,
    envFiles: req.envFiles,
    cwd,
    user,
    mounts,
    readonlyRoot: req.readOnly,
    terminal: stdio.terminal,
    consoleSize: stdio.consoleSize,
    rlimits,
    init: req.init,
    imageEnv: fromImage?.env,
    stopSignal: fromImage?.stopSignal,
  });
  try {
    const result = await runForeground({
      id,
      bundle: dir,
      spec,
      store: req.store,
      owner,
      signals,
      stdio: [stdio.attachStdin ? "inherit" : "ignore", "inherit", "inherit"],
      attachStdin: stdio.attachStdin,
      // The record first: from then on `mycr gc` knows whose files these are.
      prepare: () => {
        writeRecord({ id, created: new Date().toISOString(), owner, keep, ...(name !== undefined ? { name } : {}) });
        createRootfsDirs(dir);
      },
    });
    return { ...result, id };
  } finally {
    removeContainerFiles(dir, keep);
    if (keep && existsSync(paths.upper)) req.onKept?.(paths.upper);
    signals.dispose();
    trace("engine: cleaned up");
  }
}
