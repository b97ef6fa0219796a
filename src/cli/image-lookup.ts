// Whether a word names a local image: loaded only when a run's command was not found.
import { imageStore } from "../engine/image";
import { findImage } from "../image/images";

export function isLocalImage(word: string): boolean {
  try {
    return findImage(imageStore(), word) !== undefined;
  } catch {
    return false; // no store yet
  }
}
