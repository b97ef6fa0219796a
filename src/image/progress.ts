// What a pull (or a push) tells whoever shows its progress. The image code only emits
// these events; drawing them (bars on a terminal, lines otherwise) is the CLI's business.

/** A layer is named by its position in the manifest: two layers may share a digest. */
export type PullEvent =
  /** The manifest's layers, in order; `id` is the first 12 hex digits of the blob digest. */
  | { kind: "layers"; layers: { id: string; size: number }[] }
  /** Already in the store (or another pull just finished it; for a push: in the registry): nothing to do. */
  | { kind: "exists"; layer: number }
  /** Push: the registry linked the blob from another of its repositories. */
  | { kind: "mounted"; layer: number; from: string }
  /**
   * Pull: bytes of the compressed blob received, and unpacked on the way, so far (0 again
   * only if the whole layer starts over). Push: bytes of the layer's tar read and sent compressed.
   */
  | { kind: "downloading"; layer: number; bytes: number; total: number }
  /** In the store (pushed); `size` is what was downloaded (uploaded), `seconds` the whole layer's time. */
  | { kind: "done"; layer: number; size: number; seconds: number }
  /** The download broke off and goes on from the first missing byte (a Range request). */
  | { kind: "retry"; layer: number; why: string }
  /** The pull (push) is over, whether it succeeded or failed: the last event. */
  | { kind: "end" };

export type PullProgress = (event: PullEvent) => void;
