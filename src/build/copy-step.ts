// COPY and ADD: which files, where, owned by whom; the step's key includes their content.
// Sources come from the build context (globs, .dockerignore applied; owner root unless
// --chown) or, with --from, from another stage or an image (owner kept unless --chown).
// ADD also unpacks local tar archives; it refuses URLs and git repositories.
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { ContainerError } from "../runtime/errors";
import { makeChildImage } from "../image/child-image";
import { LayeredFs } from "../image/layered-fs";
import { stepKey } from "./cache";
import { archiveItems, destFor, isArchive, itemFor, planDigest, writeCopyLayer, type CopyItem, type Owner } from "./copy";
import { at, type Instruction } from "./dockerfile";
import { expandWord, expandWords, type Env } from "./shell-words";
import type { Builder, StageState } from "./builder";
import { hasGlob } from "./context";

const FLAGS = new Set(["from", "chown", "chmod", "link"]);

export function layeredFs(b: Builder, layers: string[]): LayeredFs {
  return new LayeredFs([...layers].reverse().map((l) => join(b.store.layerDir(l), "diff")));
}

/** A line of /etc/passwd or /etc/group in the image whose first field is `name`. */
function lookupId(fs: LayeredFs, file: string, name: string): number | undefined {
  const found = fs.lookup(file);
  if (!found?.stat.isFile()) return undefined;
  const text = readFileSync(found.host, "utf8");
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 3) return Number(f[2]);
  }
  return undefined;
}

/** --chown=USER[:GROUP]: numbers, or names from the image's /etc/passwd and /etc/group. */
export function chownOf(text: string, fs: LayeredFs): Owner {
  const [user, group] = text.split(":");
  const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  const uid = num(user!) ?? lookupId(fs, "/etc/passwd", user!);
  if (uid === undefined) throw new ContainerError(`--chown=${text}: no user "${user}" in the image's /etc/passwd`);
  let gid: number | undefined;
  if (group === undefined || group === "") {
    gid = num(user!) ?? primaryGroup(fs, user!);
  } else gid = num(group) ?? lookupId(fs, "/etc/group", group);
  if (gid === undefined) throw new ContainerError(`--chown=${text}: no group "${group ?? user}" in the image's /etc/group`);
  return { uid, gid };
}

function primaryGroup(fs: LayeredFs, user: string): number | undefined {
  const found = fs.lookup("/etc/passwd");
  if (!found?.stat.isFile()) return undefined;
  const text = readFileSync(found.host, "utf8");
  const line = text.split("\n").find((l) => l.split(":")[0] === user);
  return line !== undefined ? Number(line.split(":")[3]) : undefined;
}

/** A directory path through the image's own symlinks, as far as it exists; the rest as given. */
function resolveDir(fs: LayeredFs, path: string): string {
  const parts = path.split("/").filter((p) => p !== "");
  let base = "/";
  for (let i = 0; i < parts.length; i++) {
    const found = fs.lookup(posix.join(base, parts[i]!));
    if (found === null || !found.stat.isDirectory()) return posix.join(base, ...parts.slice(i));
    base = found.path;
  }
  return base;
}

/** Items for everything at and below `path` in an image (COPY --from). */
function imageItems(fs: LayeredFs, path: string, dest: string, intoDir: boolean, owner: Owner | undefined, chmod: number | undefined): CopyItem[] {
  const found = fs.lookup(path);
  if (found === null) throw new ContainerError(`${path}: no such file or directory in the source`);
  if (!found.stat.isDirectory()) {
    const item = itemFor(destFor(dest, intoDir, found.path), found.host, found.stat, owner, chmod);
    return item ? [item] : [];
  }
  const out: CopyItem[] = [];
  const walk = (dir: string, to: string) => {
    for (const name of fs.children(dir)) {
      const child = fs.lookup(posix.join(dir, name), false)!;
      const item = itemFor(posix.join(to, name), child.host, child.stat, owner, chmod);
      if (item) out.push(item);
      if (child.stat.isDirectory()) walk(child.path, posix.join(to, name));
    }
  };
  walk(found.path, dest);
  return out;
}

export async function copyStep(b: Builder, ins: Instruction, state: StageState, args: Env, escape: string, stage: (from: string) => Promise<StageState>): Promise<StageState> {
  for (const flag of ins.flags.keys()) if (!FLAGS.has(flag) || (flag === "from" && ins.name === "ADD")) throw at(b.fileName, ins, `--${flag} is not supported`);
  const body = state.doc.config ?? {};
  const env = b.expansionEnv(body.Env ?? [], args);
  const words = ins.json ? ins.json.map((w) => expandWord(w, env, escape)) : expandWords(ins.args, env, escape);
  if (words.length < 2) throw at(b.fileName, ins, "needs a source and a destination");
  const sources = words.slice(0, -1);
  const destText = words.at(-1)!;
  const fs = layeredFs(b, state.layers);
  const chownText = ins.flags.get("chown");
  const owner = chownText !== undefined ? chownOf(expandWord(chownText, env, escape), fs) : undefined;
  const chmodText = ins.flags.get("chmod");
  if (chmodText !== undefined && !/^[0-7]{3,4}$/.test(chmodText)) throw at(b.fileName, ins, `--chmod=${chmodText}: give octal permissions (0755)`);
  const chmod = chmodText !== undefined ? parseInt(chmodText, 8) : undefined;
  // The destination, relative to WORKDIR, through the image's own symlinks.
  const wanted = posix.resolve(body.WorkingDir || "/", destText);
  const into = destText.endsWith("/") || sources.length > 1;
  const real = fs.lookup(wanted);
  const dest = real?.stat.isDirectory() ? real.path : posix.join(resolveDir(fs, posix.dirname(wanted)), posix.basename(wanted));
  const items: CopyItem[] = [];
  const from = ins.flags.get("from");
  if (from !== undefined) {
    const src = await stage(expandWord(from, env, escape));
    const srcFs = layeredFs(b, src.layers);
    for (const s of sources) {
      if (hasGlob(s)) throw at(b.fileName, ins, `--from with a pattern (${s}) is not supported: name the path`);
      items.push(...imageItems(srcFs, posix.resolve("/", s), dest, into || real?.stat.isDirectory() === true, owner, chmod));
    }
  } else {
    for (const s of sources) {
      if (/^[a-z]+:\/\//i.test(s) || s.startsWith("git@")) throw at(b.fileName, ins, `${s}: URLs and git sources are not supported; download in a RUN step (wget, curl) or into the build context`);
      const rels = b.context.sources(s);
      const intoDir = into || rels.length > 1 || real?.stat.isDirectory() === true;
      if (rels.length > 1 && !destText.endsWith("/") && !real?.stat.isDirectory()) throw at(b.fileName, ins, `${s} matches ${rels.length} files: the destination must be a directory and end with /`);
      for (const rel of rels) {
        const host = join(b.context.dir, rel);
        const st = b.context.stat(rel)!;
        if (st.isDirectory()) {
          for (const below of b.context.below(rel)) {
            const item = itemFor(posix.join(dest, below.slice(rel === "" ? 0 : rel.length + 1)), join(b.context.dir, below), b.context.stat(below)!, owner ?? { uid: 0, gid: 0 }, chmod);
            if (item) items.push(item);
          }
        } else if (ins.name === "ADD" && st.isFile() && isArchive(host)) {
          items.push(...(await archiveItems(host, dest, owner)));
        } else {
          const item = itemFor(destFor(dest, intoDir, rel), host, st, owner ?? { uid: 0, gid: 0 }, chmod);
          if (item) items.push(item);
        }
      }
    }
  }
  const digest = planDigest(items);
  const key = stepKey(state.key, ins.name, JSON.stringify([...ins.flags]), JSON.stringify(words), digest);
  const hit = b.opts.noCache ? undefined : b.cache.find(key);
  if (hit) return b.fromCache(hit, key);
  const child = await makeChildImage(b.store, {
    parent: { layers: state.layers, config: state.doc },
    body,
    history: { created_by: `/bin/sh -c #(nop) ${ins.name} ${digest} in ${dest}` },
    names: [],
    intermediate: true,
    writeLayer: (tar) => writeCopyLayer(tar, items, fs, owner),
  });
  await b.cache.remember(key, child.record.config);
  b.made(child.record.config);
  return { layers: child.record.layers, doc: child.config, imageId: child.record.config, key };
}

/**
 * WORKDIR of a directory the image lacks: made (with its missing parents) as a layer,
 * owned by the stage's USER, as podman makes it; nothing when it exists.
 */
export async function workdirStep(b: Builder, state: StageState, dir: string): Promise<StageState> {
  const fs = layeredFs(b, state.layers);
  if (fs.lookup(dir)?.stat.isDirectory()) return state;
  const user = state.doc.config?.User;
  const owner = user ? chownOf(user, fs) : { uid: 0, gid: 0 };
  const key = stepKey(state.key, "WORKDIR", dir, `${owner.uid}:${owner.gid}`);
  const hit = b.opts.noCache ? undefined : b.cache.find(key);
  if (hit) return b.fromCache(hit, key);
  const item: CopyItem = { dest: dir, type: "dir", mode: 0o755, ...owner, mtime: Math.floor(Date.now() / 1000), size: 0 };
  const history = state.doc.history ?? [];
  const child = await makeChildImage(b.store, {
    parent: { layers: state.layers, config: { ...state.doc, history: history.slice(0, -1) } },
    body: state.doc.config ?? {},
    history: { ...history.at(-1), empty_layer: false },
    names: [],
    intermediate: true,
    writeLayer: (tar) => writeCopyLayer(tar, [item], fs, owner),
  });
  await b.cache.remember(key, child.record.config);
  b.made(child.record.config);
  return { layers: child.record.layers, doc: child.config, imageId: child.record.config, key };
}
