import { oomScoreAdjFromFlag } from "../engine/resource-flags";
import { RESOURCE_ARGS, resourcesFromArgs } from "./resource-args";
import type { RunRequest } from "../engine/run";
import type { StartSupervised } from "../engine/detach";
import { out } from "./output";
import { formatBytes } from "../engine/units";
import { StateStore } from "../runtime/state";
import { securityFromFlags } from "../engine/security-flags";
import { defaultNamespaces } from "../spec/defaults";
import { list, single, UsageError, type ParsedFlags } from "./argv";
import type { ImageRequest, PullPolicy } from "../engine/image";
import { defineMycrCommand, type GlobalOptions } from "./command";
import { OCI_CREATE_ARGS } from "./oci-args";
import { log } from "./log";
import { parsePort } from "../net/ports";
import { parseAddHost } from "../net/dns";
import { ContainerError } from "../runtime/errors";

/** Parsing errors of flag values become one-line usage errors. */
function parseFlagValue<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new ContainerError((e as Error).message);
    }
  };
}

/** --image and the flags that say how to get it (the progress display is loaded only then). */
async function imageRequest(args: ParsedFlags, to: MessageSinks | undefined): Promise<ImageRequest | undefined> {
  const ref = single(args.image);
  if (ref === undefined) {
    for (const f of ["pull", "platform", "tls-verify", "quiet"]) if (args[f] !== undefined) throw new UsageError(`--${f} needs --image`);
    return undefined;
  }
  return {
    ref,
    pull: single(args.pull) as PullPolicy | undefined,
    platform: single(args.platform),
    tlsVerify: args["tls-verify"] !== false,
    ...(await import("./pull-progress")).pullReporter({ quiet: args.quiet === true, ...(to ? { info: to.info } : {}) }),
  };
}

/**
 * `mycr run alpine:3.20`: mycr's run takes a command first (the host's root by default),
 * docker's takes an image. When the first word is no program on the host but names an
 * image (a local one, or a reference with a tag, digest or registry), say which form runs it.
 */
async function suggestImageForm(word: string | undefined): Promise<void> {
  if (word === undefined || word.includes("/") && !/^[\w.-]+(:\d+)?\/[\w./-]+(:[\w.-]+)?$/.test(word)) return;
  const { lookPath, DEFAULT_PATH } = await import("../runtime/lookpath");
  try {
    if (!word.includes("/")) lookPath(word, [`PATH=${DEFAULT_PATH}`]);
    return; // a program: run it
  } catch {
    // not a program on the host: an image?
  }
  const looksLikeImage = /[:@]/.test(word) || word.includes("/") || (await import("./image-lookup")).isLocalImage(word);
  if (!looksLikeImage) return;
  throw new ContainerError(`"${word}": executable file not found in $PATH; to run the image ${word}: mycr container run ${word} [COMMAND] (or mycr run --image ${word} [COMMAND])`, 127);
}

/** A boolean flag the user did not give stays undefined: -t/-i have an automatic default. */
function given(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/** Where a run's messages go: our stderr (the log), or a served run's client's. */
export interface MessageSinks {
  warn: (message: string) => void;
  info: (message: string) => void;
}

/** The container `run`'s flags ask for (foreground or -d; not --bundle); messages to `to`, or our log. */
export async function runRequest(args: ParsedFlags, global: GlobalOptions, to?: MessageSinks): Promise<RunRequest> {
  const say = to ?? log;
  // (a PATH of the user's may find what the default PATH does not: then the container decides)
  const ownPath = list(args.env).some((e) => e.startsWith("PATH="));
  if (args.image === undefined && args.rootfs === undefined && args.entrypoint === undefined && !ownPath) await suggestImageForm(args._[0]);
  return {
    args: args._,
    rootfs: single(args.rootfs),
    image: await imageRequest(args, to),
    hostname: single(args.hostname),
    resources: resourcesFromArgs(args),
    oomScoreAdj: oomScoreAdjFromFlag(single(args["oom-score-adj"])),
    security: securityFromFlags(
      {
        capAdd: list(args["cap-add"]),
        capDrop: list(args["cap-drop"]),
        privileged: args.privileged === true,
        securityOpt: list(args["security-opt"]),
        devices: list(args.device),
        sysctls: list(args.sysctl),
      },
      new Set(defaultNamespaces().map((n) => n.type)),
    ),
    name: single(args.name),
    labels: list(args.label),
    network: {
      mode: single(args.network),
      ports: list(args.publish).map(parseFlagValue(parsePort)),
      publishAll: args["publish-all"] === true,
      dns: list(args.dns),
      addHosts: list(args["add-host"]).map(parseFlagValue(parseAddHost)),
    },
    onNotice: (m) => say.warn(m),
    onInfo: (m) => say.info(m),
    tty: given(args.tty),
    interactive: given(args.interactive),
    env: list(args.env),
    envFiles: list(args["env-file"]),
    workdir: single(args.workdir),
    user: single(args.user),
    volumes: list(args.volume),
    tmpfs: list(args.tmpfs),
    shmSize: single(args["shm-size"]),
    storageOpts: list(args["storage-opt"]),
    userns: single(args.userns),
    readOnly: args["read-only"] === true,
    entrypoint: single(args.entrypoint),
    ulimits: list(args.ulimit),
    init: args.init === true,
    keep: args.keep === true,
    onKept: (dir) => say.info(`kept the container's files in ${dir}`),
    store: new StateStore(global.stateRoot),
    ...(global.systemdCgroup ? { cgroupManager: "systemd" as const } : {}),
  };
}

/** `run -d`: the container handed to the supervisor (`start`: how; by its client when absent); its id. */
export async function runDetachedFrom(request: RunRequest, args: ParsedFlags, start?: StartSupervised): Promise<string> {
  const { runDetached } = await import("../engine/detach");
  return runDetached(request, { restart: single(args.restart), autoRemove: args.rm === true, logOpts: list(args["log-opt"]) }, start);
}

/** A foreground run to its end: the container's exit status; an OOM kill is told through `error`. */
export async function runToEnd(request: RunRequest, args: ParsedFlags, error: (message: string) => void = (m) => log.error(m)): Promise<number> {
  if (args.restart !== undefined || args["log-opt"] !== undefined) throw new UsageError("--restart and --log-opt need -d");
  // Loaded here, not at the top: a `run -d` served by the supervisor, or handed to it,
  // never loads the code that starts one (~40 % of run's chunks); only the first `run
  // -d` of a root, which starts its container itself (engine/adopt.ts), does.
  const { runContainer } = await import("../engine/run");
  const outcome = await runContainer(request);
  if (outcome.oomKills > 0) {
    const limit = outcome.memoryLimit === null ? "" : ` (limit ${formatBytes(outcome.memoryLimit)})`;
    const who = outcome.exitCode === 137 ? `container ${outcome.id.slice(0, 12)} was killed` : `a process in container ${outcome.id.slice(0, 12)} was killed`;
    error(`${who}: out of memory${limit}`);
  }
  return outcome.exitCode;
}

export default defineMycrCommand({
  meta: { name: "run", description: "Run a command in a new container (foreground, or -d in the background)" },
  args: {
    rootfs: {
      type: "string",
      description: "Directory to use as the read-only lower layer of the root (default: the host's /)",
      valueHint: "DIR",
    },
    image: { type: "string", description: "Image to run (pulled when missing): alpine:3.20, localhost:5000/app@sha256:…", valueHint: "REF" },
    pull: { type: "enum", options: ["always", "missing", "never"], description: "When to pull the --image (default missing)" },
    platform: { type: "string", description: "Platform of the --image to pull (default the host's)", valueHint: "OS/ARCH[/VARIANT]" },
    "tls-verify": { type: "boolean", description: "Verify the registry's certificate; false also allows plain http (default true)" },
    quiet: { type: "boolean", alias: "q", description: "No pull progress for the --image on stderr (errors still)" },
    name: { type: "string", description: "A name for the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*)" },
    label: { type: "string", alias: "l", description: "Set metadata on the container (ps --filter label=, inspect); repeatable", valueHint: "KEY[=VALUE]" },
    hostname: { type: "string", description: "Container host name (default: the first 12 characters of its id)" },
    ...RESOURCE_ARGS,
    "oom-score-adj": { type: "string", description: "OOM killer preference, -1000 to 1000", valueHint: "N" },
    "cap-add": { type: "string", description: "Add a capability (NET_ADMIN, SYS_PTRACE, ALL); repeatable", valueHint: "CAP" },
    "cap-drop": { type: "string", description: "Drop a capability (NET_RAW, ALL); repeatable", valueHint: "CAP" },
    privileged: { type: "boolean", description: "All capabilities and devices, no seccomp, no masked paths: no isolation from the host's kernel" },
    "security-opt": {
      type: "string",
      description: "no-new-privileges[:true], seccomp=unconfined|PROFILE.json, systempaths=unconfined; repeatable",
      valueHint: "OPT",
    },
    device: { type: "string", description: "Give the container a host device: HOST[:CONTAINER][:rwm]; repeatable", valueHint: "DEV" },
    sysctl: { type: "string", description: "Set a namespaced kernel parameter (net.*, kernel.shm*, ...); repeatable", valueHint: "KEY=VALUE" },
    tty: { type: "boolean", alias: "t", description: "Give the command a terminal (default with a terminal on stdin and stdout: -it)" },
    interactive: { type: "boolean", alias: "i", description: "Pass stdin to the command (a pipe or file is passed anyway)" },
    env: { type: "string", alias: "e", description: "Set KEY=VALUE, or pass KEY from mycr's environment", valueHint: "KEY[=VALUE]" },
    "env-file": { type: "string", description: "Read KEY=VALUE lines from FILE", valueHint: "FILE" },
    workdir: { type: "string", alias: "w", description: "Working directory inside (absolute; created if missing)", valueHint: "DIR" },
    user: { type: "string", alias: "u", description: "Run as USER[:GROUP], names from the container's /etc/passwd and /etc/group", valueHint: "USER[:GROUP]" },
    volume: { type: "string", alias: "v", description: "Bind-mount a host path", valueHint: "SRC:DST[:ro|rw]" },
    tmpfs: { type: "string", description: "Mount a tmpfs (default size 64m, or half of --memory when smaller; size=0: unlimited)", valueHint: "DST[:size=64m,mode=1777]" },
    "shm-size": { type: "string", description: "Size of /dev/shm (default 64m)", valueHint: "SIZE" },
    userns: { type: "string", description: "host (default) or auto: root inside is a private range of host ids, not the host's root", valueHint: "MODE" },
    "storage-opt": { type: "string", description: "size=SIZE: the most the container may write to its root (MYCR_ROOT on xfs/ext4 with prjquota)", valueHint: "size=SIZE" },
    "read-only": { type: "boolean", description: "Mount the root filesystem read-only" },
    entrypoint: { type: "string", description: "Program to run; the command's words become its arguments", valueHint: "PROGRAM" },
    ulimit: { type: "string", description: "Resource limit", valueHint: "NAME=SOFT[:HARD]" },
    init: { type: "boolean", description: "Run a small init as PID 1 that reaps zombies and passes signals on" },
    keep: { type: "boolean", description: "Keep the container's files (its upper dir) after it exits" },
    network: { type: "string", description: "none, host, bridge (default with CNI plugins), container:NAME, or a network's name", valueHint: "NET" },
    publish: { type: "string", alias: "p", description: "Publish a port: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]", valueHint: "PORT" },
    "publish-all": { type: "boolean", alias: "P", description: "Publish every port the image exposes on a free host port" },
    dns: { type: "string", description: "Name server for /etc/resolv.conf (repeatable)", valueHint: "IP" },
    "add-host": { type: "string", description: "Add HOST:IP to /etc/hosts (repeatable)", valueHint: "HOST:IP" },
    ...OCI_CREATE_ARGS,
    detach: { type: "boolean", alias: "d", description: "Run in the background under a monitor and print the id (with --bundle: OCI create and start)" },
    rm: { type: "boolean", description: "With -d: remove the container when it exits (a foreground run always does)" },
    restart: { type: "string", description: "With -d: no, on-failure[:N] or always", valueHint: "POLICY" },
    "log-opt": { type: "string", description: "With -d: max-size=10m,max-file=3 for the container's log", valueHint: "OPT" },
    command: { type: "positional", description: "Command and its arguments (with --bundle: the container id)", required: false },
  },
  // -e and --entrypoint reach the container's execve byte for byte, as the command does
  parse: { stopAtFirstPositional: true, bytesFlags: ["env", "entrypoint"] },
  needsRoot: true,
  rootless: { caller: (args) => args.bundle !== undefined, otherwise: "enter" },
  async run(args, global) {
    if (args.bundle !== undefined) {
      return (await import("./oci-run")).runBundle(args, global); // the OCI runtime's run
    }
    const request = await runRequest(args, global);
    if (args.detach === true) {
      // docker's -d (without --bundle): a monitor keeps the container; we print its id.
      out(await runDetachedFrom(request, args));
      return 0;
    }
    return runToEnd(request, args);
  },
});
