// docker export: a running container's root filesystem as a tar stream. Only the root
// filesystem itself: mounts on it (/proc, /sys, /dev, volumes, /etc/hosts) appear as
// their empty mount points, as in docker's export.
import { close } from "../sys";
import type { ContainerView } from "./containers";
import { openContainerRoot } from "./container-root";
import { writeStream } from "./copy";
import { readTree } from "./file-tree";

export async function exportContainer(view: ContainerView, ref: string, fd: number): Promise<void> {
  const root = openContainerRoot(view, ref);
  try {
    await writeStream(readTree(root, "", { sameMount: true }), fd);
  } finally {
    close(root);
  }
}
