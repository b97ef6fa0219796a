// The supervisor: one mycr process (`mycr supervisor`) that keeps every detached
// container of a MYCR_ROOT, as conmon keeps one. It is the parent of each container's
// PID 1 (it reaps it: exit codes), holds its log pipes or terminal, restarts it, and
// removes it with --rm (./supervise.ts, per container). No daemon to start: the first
// `run -d` that finds none makes one from the keeper of the container it started
// (./adopt.ts), or starts one (./supervisor-client.ts), and it exits when the last
// container it keeps is gone.
//
// Life and death, and the races between them:
// - MYCR_ROOT/supervisor.lock is locked (flock) for the whole life: one supervisor at a
//   time; a new one waits while an old one finishes exiting.
// - Only the holder of that lock binds, and unlinks, MYCR_ROOT/supervisor.sock.
// - A connection counts as work from the moment it is accepted. With no connection and no
//   container left, the supervisor closes its socket and exits in the same turn of the
//   event loop: a client either got in before (and is served) or finds the socket closed
//   or gone (and starts a new supervisor), or its connection, still in the kernel's
//   backlog, is reset without an "accepted" (and it tries again). See docs/detached.md.
// - SIGKILLed, it takes its containers with it: each PID 1 has it as parent and
//   SIGKILL as parent-death signal, and the kernel ends the rest of each PID namespace.
//   `ps` shows them dead; gc (and the next supervisor) records them exited, code -1.
import { appendFileSync, chmodSync, rmSync, writeSync } from "node:fs";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { close, exitNow, setsid, tryLock, unlock } from "../sys";
import { collectAbandoned } from "./gc";
import { dataRoot } from "./paths";
import { addAttached, receive } from "./attach-hub";
import { superviseContainer, supervised } from "./supervise";
import { ADOPTED_FDS } from "./adopt";
import { MessageLines, STARTER_FD, encodeMessage, supervisorPaths, type AttachRequest, type ServedRunReport, type ServedRunRequest, type ServedRunSignal, type SupervisorReport, type SupervisorRequest } from "./supervisor-messages";
import { signalsByMessage, type DeliveredSignals } from "../runtime/signals";

/**
 * Serves a foreground `run` for the client at the other end of `socket` (an fd of ours),
 * or declines it (cli/served-run.ts; given by main.ts: nothing here imports the CLI).
 */
export type ServeRun = (socket: number, argv: string[], signals: DeliveredSignals, startHere: (id: string) => Promise<void>) => Promise<{ declined: string } | { accepted: true; foreground: boolean; code: Promise<number> }>;

type Incoming = SupervisorRequest | ServedRunRequest | ServedRunSignal | AttachRequest;

/** How long a new supervisor waits for its predecessor to finish exiting. */
const LOCK_WAIT_MS = 10_000;

/** How long a new supervisor waits at most for its first client (its starter may never come). */
const FIRST_CLIENT_MS = 10_000;

/**
 * Tests only: how long an exiting supervisor lingers between closing its socket and
 * exiting (the lock still held), to make the race with a new `run -d` happen every time.
 */
const EXIT_DELAY_MS = Number(process.env.MYCR_SUPERVISOR_EXIT_DELAY_MS ?? 0) || 0;

interface Connection {
  lines: MessageLines<Incoming>;
  /** A request was taken: the container, not the connection, is the work now. */
  taken: boolean;
  /** An attached client: removes it from its container's clients. */
  detach?: () => void;
  /** The container an attached client is attached to. */
  attached?: string;
  /** A served run's client: what it sends after its request, and its going away. */
  onMessage?: (message: Incoming) => void;
  onClose?: () => void;
}

async function takeLifetimeLock(path: string): Promise<number | null> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const fd = tryLock(path);
    if (fd !== null || Date.now() > deadline) return fd;
    await Bun.sleep(10);
  }
}

function tellStarter(line: string): void {
  try {
    writeSync(STARTER_FD, line + "\n");
  } catch {
    // the client that started us is gone: we wait for another, then give up
  }
}

/** Resolves once the process that started us has exited (its end of our socket pair closed). */
async function starterExited(): Promise<void> {
  try {
    for await (const _ of Bun.file(STARTER_FD).stream()) {
      // nothing is ever written: only the end counts
    }
  } catch {
    // an error ends it too
  }
  close(STARTER_FD); // the stream read a copy
}

/** The supervisor's bookkeeping: what keeps it alive, and how it ends. */
class Supervisor {
  /** Accepted connections that have not made their request yet. */
  private connections = 0;
  /** Containers handed to us and not yet finished with. */
  private containers = 0;
  private exiting = false;
  private collecting: Timer | null = null;
  private server: TCPSocketListener<Connection> | UnixSocketListener<Connection> | null = null;

  constructor(
    private readonly root: string,
    private readonly paths: ReturnType<typeof supervisorPaths>,
    private readonly runs?: () => Promise<ServeRun>,
  ) {}

  /** Listens on the socket (replacing a killed predecessor's file). */
  listen(): void {
    rmSync(this.paths.socket, { force: true });
    this.server = Bun.listen<Connection>({
      unix: this.paths.socket,
      socket: {
        open: (socket) => {
          this.connections++;
          socket.data = { lines: new MessageLines(), taken: false };
        },
        data: (socket, chunk) => {
          for (const message of socket.data.lines.push(chunk)) {
            if (socket.data.attached) receive(socket.data.attached, message as AttachRequest);
            else if (socket.data.onMessage) socket.data.onMessage(message);
            else if (!socket.data.taken) this.serve(socket, message as SupervisorRequest | ServedRunRequest);
          }
        },
        close: (socket) => {
          socket.data.detach?.();
          socket.data.onClose?.();
          if (socket.data.taken) return;
          this.connections--;
          this.exitIfIdle();
        },
        error() {
          // close follows
        },
      },
    });
    chmodSync(this.paths.socket, 0o600); // root's: a request starts a container
  }

  /** With no connection and no container left: stop listening and exit, in this same turn. */
  exitIfIdle(): void {
    if (this.exiting || this.connections > 0 || this.containers > 0) return;
    this.exiting = true;
    this.server?.stop(true); // from now on a connect is refused: the client starts a new supervisor
    const exit = (): never => {
      rmSync(this.paths.socket, { force: true });
      return exitNow(0); // the lock goes with the process
    };
    if (EXIT_DELAY_MS > 0) setTimeout(exit, EXIT_DELAY_MS);
    else exit();
  }

  private serve(socket: Socket<Connection>, request: SupervisorRequest | ServedRunRequest): void {
    socket.data.taken = true;
    this.connections--;
    const refuse = (message: string): void => {
      socket.end(encodeMessage({ type: "error", message, code: 125 }));
      queueMicrotask(() => this.exitIfIdle());
    };
    if (request.root !== this.root) return refuse(`the supervisor at ${this.paths.socket} serves MYCR_ROOT ${this.root}, not ${request.root}`);
    if (request.type === "run") return void this.serveRun(socket, request);
    if (request.type === "attach") {
      // The container keeps the supervisor alive, not its clients: they end with it.
      if (!supervised.has(request.id)) return refuse(`container ${request.id} is not running`);
      socket.data.detach = addAttached(request.id, socket as Socket<unknown>);
      socket.data.attached = request.id;
      socket.write(encodeMessage({ type: "accepted" }));
      return;
    }
    if (request.type !== "start") return refuse("unknown request");
    socket.write(encodeMessage({ type: "accepted" }));
    this.startContainer(request.id, (report) => socket.end(encodeMessage(report)));
  }

  /** Keeps the container `run -d` started for us and handed over (./adopt.ts). */
  adopt(id: string): void {
    this.startContainer(id, () => {}, true);
  }

  /** Starts the recorded container `id` and keeps it; `answer` is told once, "started" or "error". */
  private startContainer(id: string, answer: (report: SupervisorReport) => void, adopted = false): void {
    this.containers++;
    let answered = false;
    const answerOnce = (report: SupervisorReport): void => {
      if (answered) return;
      answered = true;
      answer(report);
    };
    superviseContainer(id, (report) => {
      answerOnce(report);
      this.collectSoon();
    }, adopted)
      .catch((e: unknown) => answerOnce({ type: "error", message: (e as Error).message, code: e instanceof ContainerError ? e.exitCode : 125 }))
      .finally(() => {
        this.containers--;
        this.exitIfIdle();
      });
  }

  /** A served `run -d`'s start: in this process, as a client's request would be (the error cleaned up here). */
  private startHere = (id: string): Promise<void> =>
    new Promise((resolve, reject) => this.startContainer(id, (report) => (report.type === "error" ? reject(new ContainerError(report.message, report.code)) : resolve())));

  /**
   * A foreground run for the client (docs/run.md, "Runs served by the supervisor"): it
   * counts as a container while it runs. The client's signals go to it, and its going
   * away kills it, as a killed `mycr run` takes its container with it.
   */
  private async serveRun(socket: Socket<Connection>, request: ServedRunRequest): Promise<void> {
    this.containers++;
    const signals = signalsByMessage();
    socket.data.onMessage = (m) => m.type === "signal" && signals.deliver(m.name);
    socket.data.onClose = () => signals.deliver("SIGKILL");
    const say = (report: ServedRunReport): void => void socket.write(encodeMessage(report));
    let accepted = false;
    try {
      const serve = this.runs ? await this.runs() : undefined;
      const fd = (socket as unknown as { fd?: unknown }).fd; // Bun's socket has it, undocumented
      const outcome = serve && typeof fd === "number" ? await serve(fd, request.argv, signals, this.startHere) : { declined: "this supervisor serves no runs" };
      if ("declined" in outcome) return say({ type: "declined", reason: outcome.declined });
      accepted = true;
      say({ type: "accepted", foreground: outcome.foreground });
      say({ type: "exit", code: await outcome.code });
    } catch (e) {
      say(accepted ? { type: "exit", code: 125 } : { type: "declined", reason: (e as Error).message });
      if (accepted) appendError(this.paths.log, e);
    } finally {
      signals.dispose();
      socket.end();
      this.containers--;
      this.exitIfIdle();
    }
  }

  /**
   * Starting a container leaves garbage (specs, records, streams): collected once the
   * starts settle, so what stays is what the running containers need. One timer, not one each.
   */
  private collectSoon(): void {
    this.collecting ??= setTimeout(() => {
      this.collecting = null;
      Bun.gc(true);
    }, 1000);
  }
}

/** When the supervisor turns the JIT's usual policy on: after its first container started. */
const JIT_AFTER_MS = 2_000;

/**
 * `serveRuns`: loads what serves foreground runs (none: every run is declined).
 * `adopting`: the container `run -d` started and handed over (./adopt.ts), with the
 * locks and its pipes at ADOPTED_FDS.
 */
export async function supervisorMain(serveRuns?: () => Promise<ServeRun>, adopting?: string): Promise<never> {
  // The starter's terminal may close: no SIGHUP, no job control reaches us (a keeper took
  // its session before it became us).
  if (adopting === undefined) setsid();
  // The binary starts with JavaScriptCore's tier-up thresholds raised (build.ts: a
  // command's code runs once, and compiling it was wasted). The first container, which
  // its starter waits for, runs cold code that way too; then, living long and serving
  // the same paths again and again, the supervisor compiles them as usual.
  setTimeout(() => Bun.unsafe.setJITPolicy(1), JIT_AFTER_MS).unref();
  process.chdir("/"); // hold no directory busy; requests carry their own
  const root = dataRoot();
  const paths = supervisorPaths(root);
  // An error that escaped one container's handling must not take the others down.
  const logError = (e: unknown): void => appendError(paths.log, e);
  process.on("uncaughtException", logError);
  process.on("unhandledRejection", logError);
  const supervisor = new Supervisor(root, paths, serveRuns);
  if (adopting !== undefined) {
    // Made from the keeper of the container the first `run -d` started (./adopt.ts): the
    // locks are ours already. The container first, then the socket, then the start lock
    // let go (a client waiting on it finds the socket).
    supervisor.adopt(adopting);
    try {
      supervisor.listen();
    } catch (e) {
      logError(e); // the container is still kept; once we exit, the next `run -d` starts a supervisor
    }
    unlock(ADOPTED_FDS.startLock);
  } else {
    const lock = await takeLifetimeLock(paths.lock);
    if (lock === null) {
      tellStarter(`another supervisor holds ${paths.lock} and does not exit`);
      return exitNow(1);
    }
    try {
      supervisor.listen();
    } catch (e) {
      tellStarter(`cannot listen on ${paths.socket}: ${(e as Error).message}`);
      return exitNow(1);
    }
    tellStarter("ready");
    // Its first client is the process that started it, or another: waited for while the
    // starter lives, and at most FIRST_CLIENT_MS.
    setTimeout(() => supervisor.exitIfIdle(), FIRST_CLIENT_MS).unref();
    void starterExited().then(() => supervisor.exitIfIdle());
  }
  // What a killed predecessor left (its containers died with it): recorded and removed now.
  void collectAbandoned(new StateStore(), logError);
  return new Promise<never>(() => {});
}

/** One line per error in MYCR_ROOT/supervisor.log: the supervisor has no terminal. */
function appendError(path: string, e: unknown): void {
  try {
    appendFileSync(path, `${new Date().toISOString()} ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`, { mode: 0o600 });
  } catch {
    // nowhere to say it
  }
}
