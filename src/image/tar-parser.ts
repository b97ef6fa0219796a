// A push-based tar reader: the bytes are handed in as they come (from the inflater,
// whose output buffer is used again for the next piece), and each entry goes to a sink
// synchronously, its content as views of those bytes. No promise or generator per entry
// or per chunk: on a pull of ~20 000 files the async reader's plumbing (generators
// resumed per chunk and per entry) cost more of the thread than parsing did. What the
// headers mean is tar.ts's (HeaderReader), shared with the async reader.
import { ContainerError } from "../runtime/errors";
import { BLOCK, HeaderReader, padding, type TarEntry } from "./tar";

/** Where the entries go, in stream order: `entry`, then (files) `data` pieces, then `end`. */
export interface TarSink {
  entry(entry: TarEntry): void;
  /** A piece of the current file's content: valid only during the call. */
  data(chunk: Uint8Array): void;
  end(): void;
}

const enum State {
  Header,
  Meta,
  Content,
  Padding,
  /** After the end-of-archive block: the rest is kept (tap) but not read. */
  Trailer,
}

export class TarParser {
  private readonly headers = new HeaderReader();
  /** A header put together from pieces (the input is a view that the next push overwrites). */
  private readonly block = new Uint8Array(BLOCK);
  private blockLength = 0;
  private state = State.Header;
  /** Bytes left of the current meta data, content or padding. */
  private left = 0;
  private contentSize = 0;
  private meta = new Uint8Array(0);
  private metaLength = 0;
  private metaSize = 0;

  /** `tap` sees every byte that is not file content, in order (tar-split.ts). */
  constructor(
    private readonly sink: TarSink,
    private readonly tap?: (raw: Uint8Array) => void,
  ) {}

  push(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      switch (this.state) {
        case State.Header: {
          let h: Uint8Array;
          if (this.blockLength === 0 && bytes.length - pos >= BLOCK) {
            h = bytes.subarray(pos, pos + BLOCK);
            pos += BLOCK;
          } else {
            const take = Math.min(BLOCK - this.blockLength, bytes.length - pos);
            this.block.set(bytes.subarray(pos, pos + take), this.blockLength);
            this.blockLength += take;
            pos += take;
            if (this.blockLength < BLOCK) return;
            this.blockLength = 0;
            h = this.block;
          }
          this.tap?.(h);
          this.header(h);
          break;
        }
        case State.Meta: {
          const take = Math.min(this.left, bytes.length - pos);
          const piece = bytes.subarray(pos, pos + take);
          this.tap?.(piece);
          this.meta.set(piece, this.metaLength);
          this.metaLength += take;
          this.left -= take;
          pos += take;
          if (this.left === 0) {
            this.headers.meta(this.meta.subarray(0, this.metaSize));
            this.state = State.Header;
          }
          break;
        }
        case State.Content: {
          const take = Math.min(this.left, bytes.length - pos);
          this.sink.data(bytes.subarray(pos, pos + take));
          this.left -= take;
          pos += take;
          if (this.left === 0) this.endEntry();
          break;
        }
        case State.Padding: {
          const take = Math.min(this.left, bytes.length - pos);
          this.tap?.(bytes.subarray(pos, pos + take));
          this.left -= take;
          pos += take;
          if (this.left === 0) this.state = State.Header;
          break;
        }
        case State.Trailer:
          this.tap?.(bytes.subarray(pos));
          return;
      }
    }
  }

  private header(h: Uint8Array): void {
    const next = this.headers.header(h);
    if (next === null) {
      this.state = State.Trailer;
      return;
    }
    if (next.entry === null) {
      // pax records keep views of their bytes: a fresh buffer per metadata entry
      this.metaSize = next.size;
      this.left = next.size + padding(next.size);
      this.meta = new Uint8Array(this.left);
      this.metaLength = 0;
      this.state = this.left > 0 ? State.Meta : State.Header;
      if (this.left === 0) this.headers.meta(this.meta);
      return;
    }
    this.sink.entry(next.entry);
    this.contentSize = next.size;
    this.left = next.size;
    if (this.left > 0) this.state = State.Content;
    else this.endEntry();
  }

  private endEntry(): void {
    this.sink.end();
    this.left = padding(this.contentSize);
    this.state = this.left > 0 ? State.Padding : State.Header;
  }

  /** At the end of the stream: throws unless it ended between entries. */
  finish(): void {
    const clean = this.state === State.Trailer || (this.state === State.Header && this.blockLength === 0);
    if (!clean) throw new ContainerError("layer: truncated tar stream");
  }
}
