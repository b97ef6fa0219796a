// Which cgroup manager `mycr run` uses: systemd's, as podman does, when systemd is PID 1
// on a pure cgroup v2 host and its bus answers to a connect; mycr's own (cgroupfs)
// otherwise. MYCR_CGROUP_MANAGER=cgroupfs (or =systemd, to insist) overrides the choice.
import { host, systemdAvailable, type CgroupManager } from "../cgroups";
import { ContainerError } from "../runtime/errors";

export function chooseCgroupManager(env: string | undefined = process.env.MYCR_CGROUP_MANAGER): CgroupManager {
  if (env === "cgroupfs" || env === "systemd") return env;
  if (env !== undefined && env !== "") {
    throw new ContainerError(`MYCR_CGROUP_MANAGER=${env}: must be "systemd" or "cgroupfs"`);
  }
  return host().mode === "v2" && systemdAvailable() ? "systemd" : "cgroupfs";
}
