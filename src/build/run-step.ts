// RUN: the command runs in a mycr container on the stage's image, with the stage's Env,
// WorkingDir, User and SHELL and the build args in scope as environment; /tmp is the
// image's own (what RUN leaves there stays, as with docker). Its files are kept when it
// exits; if it succeeded, its upper dir becomes the step's layer as `commit` makes one.
import { rmSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { makeChildImage } from "../image/child-image";
import { writeUpperTar } from "../image/upper-tar";
import { RUN_MOUNT_POINTS } from "../engine/commit";
import { containerDir } from "../engine/paths";
import { runContainer } from "../engine/run";
import { securityFromFlags } from "../engine/security-flags";
import { defaultNamespaces } from "../spec/defaults";
import { stepKey } from "./cache";
import { commandOf } from "./config-steps";
import { BuildError, at, type Instruction } from "./dockerfile";
import type { Builder, StageState } from "./builder";
import type { Env } from "./shell-words";

export async function runStep(b: Builder, ins: Instruction, state: StageState, args: Env): Promise<StageState> {
  if (ins.flags.size > 0) throw at(b.fileName, ins, `--${[...ins.flags.keys()][0]} is not supported`);
  const body = state.doc.config ?? {};
  const command = commandOf(ins, body);
  // Build args reach the command as environment, under the stage's ENV of the same name.
  const envNames = new Set((body.Env ?? []).map((e) => e.slice(0, e.indexOf("="))));
  const argEnv = [...args].filter(([k]) => !envNames.has(k)).map(([k, v]) => `${k}=${v}`);
  const key = stepKey(state.key, "RUN", JSON.stringify(command), JSON.stringify(argEnv));
  const hit = b.opts.noCache ? undefined : b.cache.find(key);
  if (hit) return b.fromCache(hit, key);

  const imageId = await b.materialise(state);
  const outcome = await runContainer({
    image: { ref: imageId, pull: "never" },
    entrypoint: command[0]!,
    args: command.slice(1),
    env: argEnv,
    ...(body.User ? { user: body.User } : {}),
    ...(body.WorkingDir ? { workdir: body.WorkingDir } : {}),
    network: { mode: b.opts.network, ports: [], publishAll: false, dns: [], addHosts: [] },
    security: securityFromFlags({ capAdd: [], capDrop: [], privileged: false, securityOpt: [], devices: [], sysctls: [] }, new Set(defaultNamespaces().map((n) => n.type))),
    store: b.opts.states,
    tty: false,
    interactive: false,
    keep: true,
    tmpInImage: true,
    stdout: b.opts.runOutput,
    onNotice: (m) => b.opts.warn(m),
  });
  const dir = containerDir(outcome.id);
  try {
    if (outcome.exitCode !== 0) throw new BuildError(`${b.fileName}:${ins.line}: RUN ${ins.args}: exit code ${outcome.exitCode}`, outcome.exitCode);
    const child = await makeChildImage(b.store, {
      parent: { layers: state.layers, config: state.doc },
      body,
      history: { created_by: command.join(" ") },
      names: [],
      intermediate: true,
      writeLayer: async (tar) => {
        await writeUpperTar(`${dir}/upper`, tar, RUN_MOUNT_POINTS);
      },
    });
    await b.cache.remember(key, child.record.config);
    b.made(child.record.config);
    return { layers: child.record.layers, doc: child.config, imageId: child.record.config, key };
  } catch (e) {
    if (e instanceof ContainerError && e.message.startsWith(`${b.fileName}:`)) throw e;
    throw at(b.fileName, ins, (e as Error).message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
