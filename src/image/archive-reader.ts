// Reading an image archive (docker-archive or oci-archive) without ever extracting it:
// the outer tar is indexed in one pass with our tar reader (name -> offset and size in the
// uncompressed archive), then members are read by offset. Names are only keys: an entry
// `../x` is refused, symlinks and hard links are resolved lexically inside the archive,
// nothing is created on disk by the archive's say. A compressed archive or one on a pipe
// is first copied (decompressed) into a temp file of the store, as docker load does.
import { closeSync, fstatSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { parseJson } from "./json";
import { ImageStore, tempName } from "./store";
import { readTar } from "./tar";

interface Member {
  type: "file" | "symlink" | "hardlink" | "other";
  offset: number;
  size: number;
  link: string;
}

/** Components of a name inside the archive; `..` is refused (an archive has no business with it). */
function archivePath(raw: string, what: string): string[] {
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ContainerError(`${what} "${raw}" leaves the archive (..)`);
  return parts;
}

/** `..` taken lexically, never above the archive's root. */
function normalise(parts: string[], raw: string): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (out.length === 0) throw new ContainerError(`archive link "${raw}" leaves the archive`);
      out.pop();
    } else out.push(p);
  }
  return out;
}

const MAX_LINKS = 16;

export class ArchiveReader {
  private readonly members = new Map<string, Member>();

  private constructor(
    /** The uncompressed archive on disk. */
    readonly path: string,
    /** A temp copy to remove when done. */
    private readonly temp: string | undefined,
  ) {}

  /** `input` a file name or "-" (stdin). */
  static async open(store: ImageStore, input: string): Promise<ArchiveReader> {
    // Opened only when it is read: an unread file stream holds an fd until it is collected.
    let source: () => ReadableStream<Uint8Array>;
    let direct = false;
    if (input === "-") source = () => Bun.stdin.stream();
    else {
      let st;
      try {
        st = statSync(input);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ContainerError(code === "ENOENT" ? "no such file" : (e as Error).message);
      }
      if (st.isDirectory()) throw new ContainerError("a directory, not an archive");
      direct = st.isFile() && compressionOf(input) === "none";
      source = () => Bun.file(input).stream();
    }
    let reader: ArchiveReader;
    if (direct) reader = new ArchiveReader(input, undefined);
    else {
      const tmp = tempName(store.dir("blobs", "sha256"), "archive");
      reader = new ArchiveReader(tmp, tmp);
      try {
        await spool(source(), tmp);
      } catch (e) {
        reader.close();
        throw e;
      }
    }
    try {
      await reader.index();
    } catch (e) {
      reader.close();
      throw e;
    }
    return reader;
  }

  close(): void {
    if (this.temp) rmSync(this.temp, { force: true });
  }

  private async index(): Promise<void> {
    let offset = 0; // bytes of the archive read so far: the tap sees all but content
    const tap = (raw: Uint8Array) => (offset += raw.length);
    try {
      for await (const { entry } of readTar(Bun.file(this.path).stream(), tap)) {
        const key = archivePath(entry.path, "archive entry").join("/");
        const type = entry.type === "file" || entry.type === "symlink" || entry.type === "hardlink" ? entry.type : "other";
        this.members.set(key, { type, offset, size: entry.type === "file" ? entry.size : 0, link: entry.linkname });
        if (entry.type === "file") offset += entry.size;
      }
    } catch (e) {
      const why = (e as Error).message.replace(/^layer: /, "");
      throw new ContainerError(why.startsWith("tar header") ? "not a tar archive (or a corrupt one)" : why.replace("tar stream", "archive"));
    }
  }

  has(name: string): boolean {
    try {
      return this.resolve(name) !== undefined;
    } catch {
      return false;
    }
  }

  /** The regular file `name` refers to, through symlinks and hard links inside the archive. */
  private resolve(name: string): Member | undefined {
    let parts = archivePath(name, "archive reference");
    for (let hops = 0; hops <= MAX_LINKS; hops++) {
      let redirected = false;
      for (let i = 1; i <= parts.length; i++) {
        const m = this.members.get(parts.slice(0, i).join("/"));
        if (!m) continue;
        if (m.type === "symlink") {
          const base = m.link.startsWith("/") ? [] : parts.slice(0, i - 1);
          parts = normalise([...base, ...m.link.split("/"), ...parts.slice(i)], m.link);
          redirected = true;
          break;
        }
        if (i === parts.length) {
          if (m.type === "hardlink") {
            parts = normalise(m.link.split("/"), m.link);
            redirected = true;
            break;
          }
          return m.type === "file" ? m : undefined;
        }
      }
      if (!redirected) return undefined;
    }
    throw new ContainerError(`"${name}": too many links in the archive`);
  }

  member(name: string): { offset: number; size: number } {
    const m = this.resolve(name);
    if (!m) throw new ContainerError(`"${name}" is not in the archive`);
    return m;
  }

  /** A member's bytes as a stream. */
  stream(name: string): ReadableStream<Uint8Array> {
    const m = this.member(name);
    return Bun.file(this.path).slice(m.offset, m.offset + m.size).stream();
  }

  /** A small member (JSON) in memory. */
  read(name: string, limit = 64 << 20): Uint8Array {
    const m = this.member(name);
    if (m.size > limit) throw new ContainerError(`"${name}" is ${m.size} bytes, too large for what it should hold`);
    const buf = Buffer.alloc(m.size);
    const fd = openSync(this.path, "r");
    try {
      for (let got = 0; got < m.size; ) {
        const n = readSync(fd, buf, got, m.size - got, m.offset + got);
        if (n === 0) throw new ContainerError("truncated archive");
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }

  json<T>(name: string): T {
    return parseJson<T>(this.read(name), `"${name}"`);
  }
}

function compressionOf(path: string): "gzip" | "zstd" | "none" {
  const head = Buffer.alloc(4);
  const fd = openSync(path, "r");
  try {
    if (!fstatSync(fd).isFile()) return "none";
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

/** Copies a stream to `path`, decompressing gzip or zstd (found from the first bytes). */
async function spool(source: ReadableStream<Uint8Array>, path: string): Promise<void> {
  const reader = source.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const compression = head[0] === 0x1f && head[1] === 0x8b ? "gzip" : head.length >= 4 && Buffer.from(head).readUInt32LE(0) === 0xfd2fb528 ? "zstd" : "none";
  let stream = new ReadableStream<Uint8Array>({
    start(c) {
      if (head.length > 0) c.enqueue(head);
    },
    async pull(c) {
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
  });
  if (compression !== "none") stream = stream.pipeThrough(new DecompressionStream(compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  const fd = openSync(path, "wx", 0o600);
  try {
    for await (const chunk of stream) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
  } catch (e) {
    throw new ContainerError(`${compression}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
