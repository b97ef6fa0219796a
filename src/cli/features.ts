import { OCI_VERSION } from "../spec/types";
import { defineMycrCommand } from "./command";
import { out } from "./output";

/** What this runtime implements, in the runtime-spec's features.json format. */
export default defineMycrCommand({
  meta: { name: "features", description: "Print the features this runtime supports (JSON)" },
  args: {},
  run() {
    out(
      JSON.stringify(
        {
          ociVersionMin: "1.0.0",
          ociVersionMax: OCI_VERSION,
          hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
          mountOptions: ["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async", "dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "bind", "rbind", "relatime", "norelatime", "strictatime", "nostrictatime", "lazytime", "nolazytime", "nosymfollow", "symfollow", "silent", "loud", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"],
          linux: {
            namespaces: ["cgroup", "ipc", "mount", "network", "pid", "uts"],
            cgroup: { v1: true, v2: true, systemd: true, systemdUser: false },
            apparmor: { enabled: false },
            selinux: { enabled: false },
          },
          annotations: { "org.opencontainers.runtime-spec.features.mycr": "mycr" },
        },
        null,
        2,
      ),
    );
    return 0;
  },
});
