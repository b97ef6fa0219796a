// Platforms: the host's, `--platform os/arch[/variant]`, and choosing one from an index.
import { ContainerError } from "../runtime/errors";
import type { Descriptor, Platform } from "./types";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  return { os: "linux", architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) };
}

export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new ContainerError(`--platform ${text}: expected OS/ARCH[/VARIANT], e.g. linux/arm64`);
  }
  const [os, arch, variant] = parts as [string, string, string?];
  const architecture = { x86_64: "amd64", aarch64: "arm64" }[arch] ?? arch;
  return { os, architecture, ...(variant !== undefined ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** arm64 images often omit the variant (v8 is the only one); others must match when both name one. */
function variantMatches(want: Platform, have: Platform): boolean {
  if (!want.variant || !have.variant) return want.architecture !== "arm" || !want.variant || want.variant === have.variant;
  return want.variant === have.variant;
}

export function matches(want: Platform, have: Platform): boolean {
  return want.os === have.os && want.architecture === have.architecture && variantMatches(want, have);
}

/** The manifest of `want` in an index; attestation manifests (platform unknown/unknown) are never chosen. */
export function selectManifest(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const candidates = manifests.filter((m) => m.platform && matches(want, m.platform));
  // An exact variant match beats one that left the variant out.
  return candidates.find((m) => m.platform!.variant === want.variant) ?? candidates[0];
}
