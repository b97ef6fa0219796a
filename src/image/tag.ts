// `mycr tag SOURCE TARGET`: one more name for a local image. TARGET is normalised as a
// pull reference is; if it named another image, that image keeps its other names or
// becomes untagged (commit.ts setName).
import { ContainerError } from "../runtime/errors";
import { imageName, setName } from "./commit";
import { findImage } from "./images";
import type { ImageStore } from "./store";

export async function tagImage(store: ImageStore, source: string, target: string): Promise<void> {
  const name = imageName(target, "tag");
  await store.updateImages((images) => {
    const image = findImage(store, source); // read under the refs lock: what we change is what we saw
    if (!image) throw new ContainerError(`tag: no such image: ${source}`);
    const { name: _, ...rest } = image;
    setName(images, rest, name);
  });
}
