// A resolver on the host's loopback that answers every question "no such name", and a way
// to run mycr with it as its only resolver, so that name-lookup failures are tested
// without asking the machine's real DNS anything.
import type { udp } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, WORK, mycrEnv } from "./env";
import type { Result } from "./mycr";

/** A loopback address of its own (all of 127/8 is the host's loopback), port 53 as resolv.conf requires. */
const ADDRESS = "127.0.0.77";
/** On the loopback too, but nobody listens there: a resolver that never answers. */
export const SILENT_RESOLVER = "127.0.0.78";

export interface FakeDns {
  address: string;
  stop(): void;
}

/** Answers each query with its own question and RCODE 3 (NXDOMAIN). */
export async function startNxdomainResolver(): Promise<FakeDns> {
  const socket: udp.Socket<"buffer"> = await Bun.udpSocket({
    hostname: ADDRESS,
    port: 53,
    socket: {
      data(s, query, port, address) {
        if (query.length < 12) return;
        const answer = Buffer.from(query);
        answer[2] = 0x80 | (query[2]! & 0x01); // a response; recursion desired as asked
        answer[3] = 0x83; // recursion available, NXDOMAIN
        answer.fill(0, 6, 12); // no answer, authority or additional records
        s.send(answer, port, address);
      },
    },
  });
  return { address: ADDRESS, stop: () => socket.close() };
}

/**
 * Runs `mycr ARGS` in a mount namespace of its own whose /etc/resolv.conf names only
 * `resolver`. Asynchronous on purpose: the fake resolver answers from this process's loop.
 */
export async function mycrWithResolver(resolver: string, args: string[]): Promise<Result> {
  const dir = mkdtempSync(join(WORK, "resolv-"));
  const conf = join(dir, "resolv.conf");
  writeFileSync(conf, `nameserver ${resolver}\noptions attempts:1 timeout:1\n`);
  try {
    const proc = Bun.spawn(["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', conf, MYCR, ...args], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: mycrEnv(),
    });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return { exitCode: await proc.exited, stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
