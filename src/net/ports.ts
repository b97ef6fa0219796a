// -p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp] -> CNI portMappings.
// node:net is imported where a port is tried, not at the top: it brings Node's stream
// stack (~5-8 ms of CPU at start-up), which a run without -p/-P never needs.

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
  hostIP?: string;
}

export function parsePort(text: string): PortMapping {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  if (!m) throw new Error(`-p ${text}: use [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]`);
  const hostPort = Number(m[2]);
  const containerPort = Number(m[3]);
  if (hostPort < 1 || hostPort > 65535 || containerPort < 1 || containerPort > 65535) throw new Error(`-p ${text}: ports are 1 to 65535`);
  return { hostPort, containerPort, protocol: (m[4] as "tcp" | "udp") ?? "tcp", ...(m[1] ? { hostIP: m[1] } : {}) };
}

/** Fails when something on the host already listens on the port (tcp), as docker does. */
export async function checkPortFree(p: PortMapping): Promise<void> {
  if (p.protocol !== "tcp") return;
  const { createServer } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", () => reject(new Error(`-p ${p.hostPort}:${p.containerPort}: port ${p.hostPort} is already in use on the host`)));
    server.listen({ port: p.hostPort, host: p.hostIP ?? "0.0.0.0", exclusive: true }, () => server.close(() => resolve()));
  });
}

/** A port the kernel says is free now (listen on port 0 and ask which it got). */
async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "0.0.0.0" }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * -P: every port an image exposes ("80/tcp"), published on a free host port: one nothing
 * listens on and no container publishes (`taken`: published ports are rules, not sockets).
 */
export async function publishAll(exposed: string[], taken: (port: number) => boolean = () => false): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  const used = (port: number) => taken(port) || out.some((p) => p.hostPort === port);
  for (const key of exposed) {
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(key);
    if (!m) continue; // port ranges and other forms: docker's own -P skips what it cannot map
    let port = await freePort();
    for (let tries = 0; used(port) && tries < 100; tries++) port = await freePort();
    out.push({ hostPort: port, containerPort: Number(m[1]), protocol: (m[2] as "tcp" | "udp") ?? "tcp" });
  }
  return out;
}
