// linux.resources.blockIO on both cgroup versions. Weights need a proportional I/O
// scheduler (CFQ's blkio.weight went with CFQ in Linux 5.0; BFQ's have "bfq" in their
// names), throttles need the kernel's throttling: each is written where the kernel has
// its file, and refused with the field's name where it has not.
import type { Resources } from "../spec/types";
import { blkioToIoWeight } from "./convert";
import { firstFile, writeField } from "./files";
import { CgroupError } from "./types";

type BlockIO = NonNullable<Resources["blockIO"]>;
type ThrottleKey = "throttleReadBpsDevice" | "throttleWriteBpsDevice" | "throttleReadIOPSDevice" | "throttleWriteIOPSDevice";

const FIELD = "linux.resources.blockIO";
const NO_SCHEDULER = "no proportional I/O scheduler: select BFQ for the disk";

const V1_THROTTLE: Record<ThrottleKey, string> = {
  throttleReadBpsDevice: "blkio.throttle.read_bps_device",
  throttleWriteBpsDevice: "blkio.throttle.write_bps_device",
  throttleReadIOPSDevice: "blkio.throttle.read_iops_device",
  throttleWriteIOPSDevice: "blkio.throttle.write_iops_device",
};

const V2_THROTTLE: Record<ThrottleKey, string> = {
  throttleReadBpsDevice: "rbps",
  throttleWriteBpsDevice: "wbps",
  throttleReadIOPSDevice: "riops",
  throttleWriteIOPSDevice: "wiops",
};

const THROTTLES = Object.keys(V1_THROTTLE) as ThrottleKey[];

/** weight and leafWeight 0 mean "not set" to runc; docker sends them so when no --blkio-weight is given. */
function withoutZeroWeights(b: BlockIO): BlockIO {
  const { weight, leafWeight, ...rest } = b;
  return { ...rest, ...(weight ? { weight } : {}), ...(leafWeight ? { leafWeight } : {}) };
}

/** What the kernel's ENOTSUP means for a device weight, and what to do. */
function notProportional(d: { major: number; minor: number }): Record<string, string> {
  const dev = `${d.major}:${d.minor}`;
  return { ENOTSUP: `device ${dev}'s I/O scheduler is not BFQ (echo bfq > /sys/dev/block/${dev}/queue/scheduler)` };
}

export function applyBlkioV1(dir: string, b: BlockIO): void {
  b = withoutZeroWeights(b);
  if (b.weight !== undefined) {
    writeField(`${FIELD}.weight`, dir, firstFile(`${FIELD}.weight`, dir, ["blkio.weight", "blkio.bfq.weight"], NO_SCHEDULER), b.weight);
  }
  if (b.leafWeight !== undefined) {
    writeField(`${FIELD}.leafWeight`, dir, firstFile(`${FIELD}.leafWeight`, dir, ["blkio.leaf_weight"], "only CFQ had it, gone in Linux 5.0"), b.leafWeight);
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const field = `${FIELD}.weightDevice[${i}]`;
    if (d.weight !== undefined) {
      const file = firstFile(`${field}.weight`, dir, ["blkio.weight_device", "blkio.bfq.weight_device"], NO_SCHEDULER);
      writeField(`${field}.weight`, dir, file, `${d.major}:${d.minor} ${d.weight}`, notProportional(d));
    }
    if (d.leafWeight !== undefined) {
      const file = firstFile(`${field}.leafWeight`, dir, ["blkio.leaf_weight_device"], "only CFQ had it, gone in Linux 5.0");
      writeField(`${field}.leafWeight`, dir, file, `${d.major}:${d.minor} ${d.leafWeight}`);
    }
  });
  for (const key of THROTTLES) {
    (b[key] ?? []).forEach((d, i) => {
      const field = `${FIELD}.${key}[${i}]`;
      const file = firstFile(field, dir, [V1_THROTTLE[key]], "a kernel without block I/O throttling");
      // v1 reads a rate of 0 as "no limit", as the spec's v1-shaped values mean it.
      writeField(field, dir, file, `${d.major}:${d.minor} ${d.rate}`);
    });
  }
}

export function applyIoV2(dir: string, b: BlockIO): void {
  b = withoutZeroWeights(b);
  if (b.leafWeight !== undefined) throw new CgroupError(`${FIELD}.leafWeight: cgroup v2 has no leaf weights; remove the field`);
  // io.weight (the io.cost controller) has a scale of its own (1-10000); BFQ's file
  // takes the v1 one (1-1000).
  const weightOf = (file: string, weight: number) => (file === "io.weight" ? blkioToIoWeight(weight) : weight);
  if (b.weight !== undefined) {
    const file = firstFile(`${FIELD}.weight`, dir, ["io.weight", "io.bfq.weight"], NO_SCHEDULER);
    writeField(`${FIELD}.weight`, dir, file, `default ${weightOf(file, b.weight)}`);
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const field = `${FIELD}.weightDevice[${i}]`;
    if (d.leafWeight !== undefined) throw new CgroupError(`${field}.leafWeight: cgroup v2 has no leaf weights; remove the field`);
    if (d.weight === undefined) return;
    const file = firstFile(`${field}.weight`, dir, ["io.weight", "io.bfq.weight"], NO_SCHEDULER);
    writeField(`${field}.weight`, dir, file, `${d.major}:${d.minor} ${weightOf(file, d.weight)}`, notProportional(d));
  });
  for (const key of THROTTLES) {
    (b[key] ?? []).forEach((d, i) => {
      const field = `${FIELD}.${key}[${i}]`;
      const file = firstFile(field, dir, ["io.max"], "a kernel without block I/O throttling");
      writeField(field, dir, file, `${d.major}:${d.minor} ${V2_THROTTLE[key]}=${d.rate === 0 ? "max" : d.rate}`);
    });
  }
}

/** True when the section asks for anything at all (an empty blockIO needs no controller). */
export function wantsBlockIO(given: BlockIO | undefined): boolean {
  if (!given) return false;
  const b = withoutZeroWeights(given);
  return b.weight !== undefined || b.leafWeight !== undefined || (b.weightDevice?.length ?? 0) > 0 || THROTTLES.some((k) => (b[k]?.length ?? 0) > 0);
}
