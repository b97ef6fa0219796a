import { SYSTEMD_PROPERTY_PREFIX } from "../cgroups/systemd/annotations";
import { FIELDS } from "../spec/fields";
import { OCI_VERSION } from "../spec/types";
import { INIT_ANNOTATION, USER_ANNOTATION } from "../runtime/annotations";
import { apparmorEnabled, selinuxEnabled } from "../runtime/lsm";
import { REFUSED_ANNOTATION_PREFIXES } from "../runtime/refuse";
import { MOUNT_OPTIONS } from "../runtime/rootfs/mount-options";
import { defineMycrCommand } from "./command";
import { out } from "./output";

/**
 * What this runtime implements, in the runtime-spec's features.json format, plus
 * "org.mycr.config": every config.json field and whether it is applied on cgroup v1
 * and v2 hosts (spec/fields.ts, the source docs/oci.md is held to by a test).
 */
export function features(): Record<string, unknown> {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_VERSION,
    hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    mountOptions: MOUNT_OPTIONS,
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp: { enabled: true },
      // applied where the host's kernel has them, refused where not: so, this host's answer
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: selinuxEnabled() },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    // the annotations that change what mycr does
    // (a prefix ends in a dot, as runc lists its org.systemd.property.)
    potentiallyUnsafeConfigAnnotations: [USER_ANNOTATION, INIT_ANNOTATION, SYSTEMD_PROPERTY_PREFIX],
    annotations: { "org.opencontainers.runtime-spec.features.mycr": "mycr" },
    "org.mycr.config": {
      fields: Object.fromEntries(FIELDS.map((f) => [f.path, { v1: f.v1, v2: f.v2 }])),
      annotationsRead: [USER_ANNOTATION, INIT_ANNOTATION, SYSTEMD_PROPERTY_PREFIX],
      annotationsRefused: REFUSED_ANNOTATION_PREFIXES.map(([prefix]) => `${prefix}*`),
    },
  };
}

export default defineMycrCommand({
  meta: { name: "features", description: "Print the features this runtime supports (JSON)" },
  args: {},
  run() {
    out(JSON.stringify(features(), null, 2));
    return 0;
  },
});
