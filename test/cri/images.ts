// The images a CRI pod needs, made here from the host's static busybox (no registry):
// a sandbox ("pause") image and a busybox image for the pod's containers, written as OCI
// image archives and imported into containerd's k8s.io namespace, where its CRI looks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OciLayout } from "../helpers/oci-layout";
import { busyboxLayerEntries, makeTar } from "../helpers/tar";

export const PAUSE_IMAGE = "localhost/mycr-pause:1";
export const BUSYBOX_IMAGE = "localhost/mycr-cri-busybox:1";

/**
 * The sandbox's process holds the pod's namespaces and does nothing else: it sleeps,
 * reaps whatever is re-parented to it, and leaves on SIGTERM/SIGINT (as PID 1 it would
 * otherwise ignore them). busybox is static, so the image is that one binary.
 */
const PAUSE_ENTRYPOINT = ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while :; do busybox sleep 3600 & wait; done"];

function archive(name: string, config: Record<string, unknown>, to: string): void {
  const work = mkdtempSync(join(tmpdir(), "cri-image-"));
  try {
    const layout = new OciLayout(work);
    const manifest = layout.image({ layers: [{ tar: makeTar(busyboxLayerEntries()) }], config });
    layout.tag(manifest, name.split(":").pop()!);
    const tar = Bun.spawnSync(["tar", "-C", work, "-cf", to, "."]);
    if (tar.exitCode !== 0) throw new Error(`tar of the ${name} layout: ${tar.stderr}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds both images and imports them with `ctr -n k8s.io images import` into the containerd at `socket`. */
export function importImages(socket: string, workDir: string): void {
  const images: Array<[string, Record<string, unknown>]> = [
    [PAUSE_IMAGE, { Entrypoint: PAUSE_ENTRYPOINT }],
    [BUSYBOX_IMAGE, { Cmd: ["sh"], Env: ["PATH=/bin"] }],
  ];
  for (const [name, config] of images) {
    const file = join(workDir, `${name.replace(/\W/g, "_")}.tar`);
    archive(name, config, file);
    const base = name.slice(0, name.lastIndexOf(":"));
    const r = Bun.spawnSync(["ctr", "-a", socket, "-n", "k8s.io", "images", "import", "--base-name", base, file], { timeout: 120_000 });
    if (r.exitCode !== 0) throw new Error(`ctr images import ${name}: ${r.stderr.toString().trim()}`);
    rmSync(file);
  }
}
