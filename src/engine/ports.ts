// Host ports published with -p/-P: each belongs to one container for as long as that
// container's mycr (a foreground run, or a detached container's monitor) lives. The
// engine records hold them (EngineRecord.network.ports, or pastaPorts for rootless ones); a run checks and claims its
// ports under the engine lock together with writing its record, so two runs cannot
// both get one. A holder whose mycr died keeps its port rules until it is collected.
import { readdirSync } from "node:fs";
import type { PortMapping } from "../net/ports";
import { ContainerError } from "../runtime/errors";
import { containerDir, containersDir } from "./paths";
import { ownerAlive, readRecord, recordPorts, type EngineRecord } from "./record";

/** docker's address of a mapping: 0.0.0.0 when no host IP was given. */
export function hostAddress(p: PortMapping): string {
  return p.hostIP ?? "0.0.0.0";
}

/** Same protocol and host port, and addresses that meet (0.0.0.0 meets every one). */
export function overlaps(a: PortMapping, b: PortMapping): boolean {
  if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) return false;
  const x = hostAddress(a);
  const y = hostAddress(b);
  return x === y || x === "0.0.0.0" || y === "0.0.0.0";
}

function records(): EngineRecord[] {
  let ids: string[] = [];
  try {
    ids = readdirSync(containersDir());
  } catch {
    return [];
  }
  return ids.flatMap((id) => readRecord(containerDir(id)) ?? []);
}

/** The ports a container publishes now: none once it stopped or its mycr is gone. */
export function livePorts(record: EngineRecord | null | undefined): PortMapping[] {
  return record && ownerAlive(record) ? recordPorts(record) : [];
}

/** Whether a container whose mycr died still records one of `ports` (collect it first). */
export function abandonedHolder(ports: PortMapping[]): boolean {
  return records().some((r) => !ownerAlive(r) && recordPorts(r).some((p) => ports.some((q) => overlaps(p, q))));
}

/** Host ports live containers publish (for -P to avoid). */
export function takenPorts(): PortMapping[] {
  return records().flatMap((r) => livePorts(r));
}

function flag(p: PortMapping): string {
  return `-p ${p.hostIP ? `${p.hostIP}:` : ""}${p.hostPort}:${p.containerPort}/${p.protocol}`;
}

/**
 * Fails when another live container publishes one of `ports` on an overlapping address,
 * or when `ports` repeat one. Call it under the engine lock, with writing the record.
 */
export function assertPortsFree(ports: PortMapping[], ownId: string): void {
  ports.forEach((p, i) => {
    const twice = ports.slice(0, i).find((q) => overlaps(p, q));
    if (twice) throw new ContainerError(`${flag(p)}: ${hostAddress(p)}:${p.hostPort}/${p.protocol} is already published by ${flag(twice)}: give each host port once`);
  });
  if (ports.length === 0) return;
  for (const r of records()) {
    if (r.id === ownId) continue;
    for (const held of livePorts(r)) {
      const p = ports.find((q) => overlaps(q, held));
      if (!p) continue;
      const who = `container ${r.id.slice(0, 12)}${r.name ? ` (${r.name})` : ""}`;
      throw new ContainerError(`${flag(p)}: port is already allocated: ${hostAddress(held)}:${held.hostPort}/${held.protocol} is published by ${who}; choose another host port`);
    }
  }
}

/** docker ps's PORTS entry: `0.0.0.0:32768->80/tcp`. */
export function portText(p: PortMapping): string {
  return `${hostAddress(p)}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
}

/** docker inspect's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}]}. */
export function portBindings(ports: PortMapping[]): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of ports) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: hostAddress(p), HostPort: String(p.hostPort) });
  return out;
}
