// `mycr build`: a Dockerfile's stages run in order, each step either changing the config
// (config-steps.ts) or making a layer: RUN in a mycr container on the stage's image,
// committed as commit does (run-step.ts); COPY/ADD written from the context or another
// stage (copy-step.ts). Each step has a cache key (cache.ts); a hit takes the image the
// step made before. Images are stored only when something needs one: a RUN runs on an
// image, and the build's result is one; steps in between change the state in memory.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ContainerError } from "../runtime/errors";
import type { StateStore } from "../runtime/state";
import { imageName, recordImage } from "../image/commit";
import { makeChildImage, parentOf, scratchImage, type ConfigDocument, type HistoryEntry } from "../image/child-image";
import { findImage } from "../image/images";
import { pullImage } from "../image/pull";
import { hex, type ImageRecord } from "../image/store";
import { imageStore } from "../engine/image";
import { BuildCache, stepKey } from "./cache";
import { applyConfigStep } from "./config-steps";
import { copyStep, workdirStep } from "./copy-step";
import { BuildError, at, parseDockerfile, type Instruction } from "./dockerfile";
import { runStep } from "./run-step";
import { expandWord, type Env } from "./shell-words";
import { neededStages, splitStages, stageNamed, type Stage } from "./stages";
import { BuildContext } from "./context";

export interface BuildOptions {
  contextDir: string;
  /** -f; default DIR/Dockerfile, else DIR/Containerfile. */
  file?: string;
  tags: string[];
  buildArgs: Map<string, string>;
  target?: string;
  noCache: boolean;
  /** --network for RUN (run's default when absent). */
  network?: string;
  states: StateStore;
  /** Progress lines (STEP n/m: …, --> Using cache). */
  say: (line: string) => void;
  warn: (message: string) => void;
  /** Where RUN's output goes. */
  runOutput: number | "ignore";
}

/** A stage's state between steps: its layers and config, and the stored image it is, if any. */
export interface StageState {
  layers: string[];
  doc: ConfigDocument;
  imageId?: string;
  key: string;
}

/** Build args every Dockerfile may use without declaring them (docker's predefined ARGs). */
const PREDEFINED_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A base without PATH in its Env gets the default one, as docker and podman builds give it. */
function withDefaultPath(state: StageState): StageState {
  const env = state.doc.config?.Env ?? [];
  if (env.some((e) => e.startsWith("PATH="))) return state;
  const doc: ConfigDocument = { ...state.doc, config: { ...(state.doc.config ?? {}), Env: [...env, DEFAULT_PATH] } };
  return { layers: state.layers, doc, key: stepKey(state.key, DEFAULT_PATH) };
}

export function stateOf(record: ImageRecord, doc: ConfigDocument, key: string): StageState {
  return { layers: record.layers, doc, imageId: record.config, key };
}

export class Builder {
  readonly store = imageStore();
  readonly cache: BuildCache;
  readonly file: string;
  readonly context: BuildContext;
  private readonly used = new Set<string>();
  private readonly done = new Map<number, StageState>();
  private step = 0;
  private total = 0;

  constructor(readonly opts: BuildOptions) {
    const dir = resolve(opts.contextDir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ContainerError(`build: ${opts.contextDir}: not a directory (give the build context: mycr build [-t NAME] DIR)`);
    this.file = opts.file !== undefined ? resolve(opts.file) : [join(dir, "Dockerfile"), join(dir, "Containerfile")].find((f) => existsSync(f)) ?? join(dir, "Dockerfile");
    if (!existsSync(this.file)) throw new ContainerError(`build: ${this.file}: no such file (a Dockerfile or Containerfile in the context, or -f FILE)`);
    this.context = new BuildContext(dir);
    this.cache = new BuildCache(this.store);
  }

  /** The file's name as errors show it. */
  get fileName(): string {
    return this.file.slice(this.file.lastIndexOf("/") + 1);
  }

  async build(): Promise<string> {
    const names = this.opts.tags.map((t) => imageName(t, "build -t"));
    const df = parseDockerfile(await Bun.file(this.file).text(), this.fileName);
    const all = splitStages(df);
    const stages = neededStages(all, this.opts.target, this.fileName);
    this.total = stages.reduce((n, s) => n + 1 + s.steps.length, 0);
    const globals = new Map<string, string>();
    for (const ins of all.globalArgs) this.declareArg(ins, globals, globals, df.escape);
    let state: StageState | undefined;
    for (const stage of stages) {
      state = await this.runStage(stage, all.stages, globals, df.escape);
      this.done.set(stage.index, state);
    }
    const unused = [...this.opts.buildArgs.keys()].filter((k) => !this.used.has(k) && !PREDEFINED_ARGS.includes(k));
    if (unused.length > 0) this.opts.warn(`build args not used by any ARG: ${unused.join(", ")}`);
    const id = await this.materialise(state!, true);
    this.opts.say(`COMMIT${names.length > 0 ? ` ${names.join(", ")}` : ""}`);
    const image = findImage(this.store, id)!;
    await this.store.updateImages((images) => {
      // The result is asked for: listed even when a cached step's image is also its.
      for (const i of images) if (i.config === id) delete i.intermediate;
    });
    if (names.length > 0) {
      await recordImage(this.store, { digest: image.digest, manifest: image.manifest, config: image.config, layers: image.layers }, names);
      for (const n of names) this.opts.say(`Successfully tagged ${n}`);
    }
    return id;
  }

  /** ARG NAME[=default]: its value is --build-arg's, else the default, else a global ARG's of that name. */
  private declareArg(ins: Instruction, scope: Env, globals: Env, escape: string): string {
    const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)(?:=(.*))?$/s.exec(ins.args);
    if (!m) throw at(this.fileName, ins, `expected ARG NAME[=DEFAULT], not "${ins.args}"`);
    const name = m[1]!;
    this.used.add(name);
    const given = this.opts.buildArgs.get(name);
    const value = given ?? (m[2] !== undefined ? expandWord(m[2], scope, escape) : globals.get(name));
    if (value !== undefined) scope.set(name, value);
    return `${name}=${value ?? ""}`;
  }

  private next(ins: Instruction): void {
    this.opts.say(`STEP ${++this.step}/${this.total}: ${ins.original}`);
  }

  private async base(stage: Stage, all: Stage[], globals: Env, escape: string): Promise<StageState> {
    const text = expandWord(stage.base, globals, escape);
    if (stage.from.flags.size > 0) throw at(this.fileName, stage.from, `--${[...stage.from.flags.keys()][0]} is not supported (images of the host's platform only)`);
    const prior = stageNamed(all, text, stage.index);
    if (prior) return this.done.get(prior.index)!;
    if (text.toLowerCase() === "scratch") {
      const s = scratchImage();
      return { layers: s.layers, doc: s.config, key: stepKey("FROM scratch", s.config.architecture ?? "") };
    }
    const record = await this.image(text);
    return stateOf(record, parentOf(this.store, record).config, stepKey("FROM", record.config));
  }

  /** An image by name or id, pulled when missing (as run --image). */
  async image(ref: string): Promise<ImageRecord> {
    return findImage(this.store, ref) ?? (await pullImage(this.store, ref, { say: (m) => this.opts.say(m) }));
  }

  private async runStage(stage: Stage, all: Stage[], globals: Env, escape: string): Promise<StageState> {
    this.next(stage.from);
    let state: StageState;
    try {
      state = withDefaultPath(await this.base(stage, all, globals, escape));
    } catch (e) {
      throw this.located(stage.from, e);
    }
    const args: Env = new Map();
    const config = { cmdSet: false };
    for (const ins of stage.steps) {
      this.next(ins);
      try {
        state = await this.runStep(ins, state, { args, escape, all, stage, config });
      } catch (e) {
        throw this.located(ins, e);
      }
    }
    return state;
  }

  private async runStep(ins: Instruction, state: StageState, ctx: { args: Env; escape: string; all: Stage[]; stage: Stage; config: { cmdSet: boolean } }): Promise<StageState> {
    switch (ins.name) {
      case "ARG": {
        const decl = this.declareArg(ins, ctx.args, new Map(), ctx.escape);
        return { ...state, key: stepKey(state.key, "ARG", decl) };
      }
      case "RUN":
        return runStep(this, ins, state, ctx.args);
      case "COPY":
      case "ADD":
        return copyStep(this, ins, state, ctx.args, ctx.escape, (from) => this.fromStage(ctx.all, from, ctx.stage.index));
      case "ONBUILD":
      case "FROM":
        throw at(this.fileName, ins, "is not supported");
    }
    const doc: ConfigDocument = structuredClone(state.doc);
    const body = doc.config ?? {};
    const env = this.expansionEnv(body.Env ?? [], ctx.args);
    const c: Parameters<typeof applyConfigStep>[1] = { body, env, escape: ctx.escape, cmdSet: ctx.config.cmdSet };
    let applied: boolean;
    try {
      applied = applyConfigStep(ins, c);
    } catch (e) {
      throw at(this.fileName, ins, (e as Error).message);
    }
    if (!applied) throw at(this.fileName, ins, "unknown instruction");
    ctx.config.cmdSet = c.cmdSet;
    doc.config = body;
    if (c.author !== undefined) doc.author = c.author;
    const entry: HistoryEntry = { created: new Date().toISOString(), created_by: `/bin/sh -c #(nop) ${ins.original}`, empty_layer: true };
    doc.history = [...(doc.history ?? []), entry];
    const next = { layers: state.layers, doc, key: stepKey(state.key, ins.original, JSON.stringify(Object.fromEntries(env))) };
    return ins.name === "WORKDIR" ? workdirStep(this, next, body.WorkingDir!) : next;
  }

  /** An error of a step as FILE:LINE: INSTRUCTION: message (unless it names its place already). */
  located(ins: Instruction, e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    if (err.message.startsWith(`${this.fileName}:`)) return err;
    return at(this.fileName, ins, err.message, err instanceof ContainerError ? err.exitCode : 125);
  }

  /** What $VARIABLES mean in an instruction: the stage's ARGs, and its ENV over them. */
  expansionEnv(envList: string[], args: Env): Env {
    const env = new Map(args);
    for (const e of envList) {
      const eq = e.indexOf("=");
      if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
    }
    return env;
  }

  /** COPY --from: a finished stage's state, or an image (pulled when missing). */
  private async fromStage(all: Stage[], from: string, before: number): Promise<StageState> {
    const stage = stageNamed(all, from, before);
    if (stage) {
      const s = this.done.get(stage.index);
      if (!s) throw new BuildError(`--from=${from}: stage ${from} was not built`);
      return s;
    }
    const record = await this.image(from);
    return stateOf(record, parentOf(this.store, record).config, stepKey("FROM", record.config));
  }

  /** The state as a stored image (from the cache when it has the state's key); returns its id. */
  async materialise(state: StageState, final = false): Promise<string> {
    if (state.imageId !== undefined) return state.imageId;
    const cached = this.opts.noCache ? undefined : this.cache.find(state.key);
    if (cached) {
      state.imageId = cached.config;
      return cached.config;
    }
    const history = state.doc.history ?? [];
    const last = history.at(-1) ?? { created_by: "/bin/sh -c #(nop) FROM scratch", empty_layer: true };
    const child = await makeChildImage(this.store, {
      parent: { layers: state.layers, config: { ...state.doc, history: history.slice(0, -1) } },
      body: state.doc.config ?? {},
      history: last,
      names: [],
      intermediate: !final,
    });
    await this.cache.remember(state.key, child.record.config);
    state.imageId = child.record.config;
    state.doc = child.config;
    return child.record.config;
  }

  /** Says a step was taken from the cache; returns the state it gives. */
  fromCache(record: ImageRecord, key: string): StageState {
    this.opts.say(`--> Using cache ${hex(record.config)}`);
    return stateOf(record, parentOf(this.store, record).config, key);
  }

  /** Says what a step made. */
  made(id: string): void {
    this.opts.say(`--> ${hex(id).slice(0, 12)}`);
  }
}
