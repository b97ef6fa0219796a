// A rootless container's network through slirp4netns (--network slirp4netns; pasta is the
// default, docs/rootless.md says why): a TCP/IP stack in user space (libslirp) on the far
// side of a tap device in the container's namespace, NATing its traffic onto sockets of
// the user's on the host.
//
// What slirp4netns is told, and why:
// - --configure: it gives tap0 10.0.2.100/24, the default route through 10.0.2.2 and the
//   DNS forwarder 10.0.2.3, and sets the link up itself;
// - host loopback stays on (no --disable-host-loopback): 10.0.2.2 is the host's 127.0.0.1,
//   as pasta's gateway is; every process of the user's can reach it already;
// - --ready-fd: mycr waits until the namespace is configured before the program starts;
// - --exit-fd: the write end stays with the mycr that runs the container, so slirp4netns
//   ends with it, however it ends (a killed mycr leaves no slirp4netns behind);
// - --api-socket: -p ports are forwarded by `add_hostfwd` requests on it, one per port
//   (slirp4netns has no flag for them). It is made in the container's directory, relative
//   to slirp4netns's working directory: the absolute path can exceed a socket name's 108
//   bytes, and it is reached through /proc/self/fd/N of the directory for the same reason.
// - --mtu 65520 (podman's choice): fewer, larger frames through the user-space stack;
// - --enable-sandbox --enable-seccomp (as podman): it parses every packet the hostile
//   container sends, so it runs in a mount namespace of its own with an empty root and
//   a syscall filter.
import { closeSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { O_DIRECTORY, O_PATH, close, openPath, pipe } from "../sys";
import type { PortMapping } from "./ports";

/** The address slirp4netns's DNS forwarder answers on inside the namespace. */
export const SLIRP_DNS = "10.0.2.3";
export const SLIRP_SOCKET = "slirp4netns.sock";
const LOG = "slirp4netns.log";

export function slirp4netnsInstalled(): boolean {
  return Bun.which("slirp4netns") !== null;
}

/** The slirp4netns processes this mycr runs and the write ends of their exit pipes, by pid file. */
const running = new Map<string, { exitWrite: number; exited: Promise<number> }>();

/** Everything `stream` gives until it ends. */
async function readAll(fd: number): Promise<string> {
  let text = "";
  for await (const chunk of Bun.file(fd).stream()) text += new TextDecoder().decode(chunk);
  return text;
}

/** slirp4netns's last line of complaint, from its log. */
function explain(log: string): string {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    // it never wrote one
  }
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  // its last line is often only "child failed(1)": the tap device's refusal comes before it
  const tun = lines.find((l) => /\/dev\/net\/tun/.test(l));
  if (tun) return `${tun} (slirp4netns needs /dev/net/tun open to users: mode 0666, as udev sets it on most hosts)`;
  return lines.at(-1) ?? "no message";
}

/** One request on slirp4netns's API socket (one a connection) and its answer. */
async function request(dir: string, body: object): Promise<{ return?: unknown; error?: { desc?: string } }> {
  const dirFd = openPath(dir, O_PATH | O_DIRECTORY);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      let got = "";
      Bun.connect({
        unix: `/proc/self/fd/${dirFd}/${SLIRP_SOCKET}`,
        socket: {
          open: (s) => void s.write(JSON.stringify(body)),
          data: (_s, data) => void (got += data.toString()),
          close: () => resolve(got),
          error: (_s, e) => reject(e),
          connectError: (_s, e) => reject(e),
        },
      }).catch(reject);
    });
    return JSON.parse(answer) as { return?: unknown; error?: { desc?: string } };
  } finally {
    close(dirFd);
  }
}

/** Forwards one -p port from the host into the container (slirp4netns's add_hostfwd). */
async function addForward(dir: string, p: PortMapping): Promise<void> {
  const args = { proto: p.protocol, host_addr: p.hostIP || "0.0.0.0", host_port: p.hostPort, guest_port: p.containerPort };
  const answer = await request(dir, { execute: "add_hostfwd", arguments: args });
  if (answer.return === undefined) {
    throw new Error(`slirp4netns: publishing ${args.host_addr}:${p.hostPort}->${p.containerPort}/${p.protocol}: ${answer.error?.desc ?? "no answer"} (is the host port taken?)`);
  }
}

/**
 * Connects the network namespace of `pid` (the container's init) through slirp4netns,
 * forwards the -p ports, and writes its pid to `pidFile`; returns once the namespace
 * is configured. `dir` is the container's directory (its API socket and log go there).
 */
export async function startSlirp4netns(pid: number, ports: PortMapping[], dir: string, pidFile: string): Promise<number> {
  const [readyRead, readyWrite] = pipe();
  const [exitRead, exitWrite] = pipe();
  const log = join(dir, LOG);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    const args = ["slirp4netns", "--configure", "--mtu=65520", "--enable-sandbox", "--enable-seccomp", "--ready-fd=3", "--exit-fd=4", `--api-socket=${SLIRP_SOCKET}`, String(pid), "tap0"];
    proc = Bun.spawn(args, { cwd: dir, stdio: ["ignore", "ignore", Bun.file(log), readyWrite, exitRead] });
  } catch {
    close(readyRead);
    close(exitWrite);
    throw new Error("slirp4netns not found: --network slirp4netns needs it (apt-get install slirp4netns), or use pasta (the default)");
  } finally {
    closeSync(readyWrite);
    closeSync(exitRead);
  }
  proc.unref();
  const ready = await readAll(readyRead).finally(() => close(readyRead));
  running.set(pidFile, { exitWrite, exited: proc.exited });
  await Bun.write(pidFile, String(proc.pid));
  try {
    if (ready !== "1") throw new Error(`slirp4netns: ${explain(log)}`);
    for (const p of ports) await addForward(dir, p);
  } catch (e) {
    await stopSlirp4netns(pidFile);
    throw e;
  }
  return proc.pid;
}

/**
 * Ends the container's slirp4netns: closing the exit pipe is its signal when this mycr
 * started it (and then waits for it, so no zombie outlives this mycr); SIGTERM by its
 * pid file otherwise (gc after a crash: the pid is slirp4netns's only while the process
 * by that pid is one). Its pid file, socket and log go too.
 */
export async function stopSlirp4netns(pidFile: string): Promise<void> {
  const own = running.get(pidFile);
  if (own !== undefined) {
    running.delete(pidFile);
    close(own.exitWrite);
    await Promise.race([own.exited, Bun.sleep(2000)]);
  }
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("slirp4netns")) process.kill(pid, "SIGTERM");
  } catch {
    // already gone (its pid file with it, or never written)
  }
  for (const file of [pidFile, join(dirname(pidFile), SLIRP_SOCKET), join(dirname(pidFile), LOG)]) rmSync(file, { force: true });
}
