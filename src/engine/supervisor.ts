// The supervisor: one mycr process (`mycr supervisor`) that keeps every detached
// container of a MYCR_ROOT, as conmon keeps one. It is the parent of each container's
// PID 1 (it reaps it: exit codes), holds its log pipes or terminal, restarts it, and
// removes it with --rm (./supervise.ts, per container). No daemon to start: the first
// `run -d` that finds none starts it (./supervisor-client.ts), and it exits when the
// last container it keeps is gone.
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
import { chmodSync, rmSync, writeSync } from "node:fs";
import type { Socket } from "bun";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { close, exitNow, setsid, tryLock } from "../sys";
import { collectAbandoned } from "./gc";
import { dataRoot } from "./paths";
import { superviseContainer } from "./supervise";
import { MessageLines, READY_FD, encodeMessage, supervisorPaths, type SupervisorRequest } from "./supervisor-messages";

/** How long a new supervisor waits for its predecessor to finish exiting. */
const LOCK_WAIT_MS = 10_000;

/** How long a new supervisor waits for its first client (which may have been killed). */
const FIRST_CLIENT_MS = 10_000;

/**
 * Tests only: how long an exiting supervisor lingers between closing its socket and
 * exiting (the lock still held), to make the race with a new `run -d` happen every time.
 */
const EXIT_DELAY_MS = Number(process.env.MYCR_SUPERVISOR_EXIT_DELAY_MS ?? 0) || 0;

interface Connection {
  lines: MessageLines<SupervisorRequest>;
  /** A request was taken: the container, not the connection, is the work now. */
  taken: boolean;
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
    writeSync(READY_FD, line + "\n");
    close(READY_FD);
  } catch {
    // the client that started us is gone: we wait for another, then give up
  }
}

export async function supervisorMain(): Promise<never> {
  setsid(); // the starter's terminal may close: no SIGHUP, no job control reaches us
  process.chdir("/"); // hold no directory busy; requests carry their own
  const root = dataRoot();
  const paths = supervisorPaths(root);
  const lock = await takeLifetimeLock(paths.lock);
  if (lock === null) {
    tellStarter(`another supervisor holds ${paths.lock} and does not exit`);
    return exitNow(1);
  }
  let connections = 0;
  let containers = 0;
  let exiting = false;
  const exitIfIdle = (): void => {
    if (exiting || connections > 0 || containers > 0) return;
    exiting = true;
    server.stop(true); // from now on a connect is refused: the client starts a new supervisor
    const exit = (): never => {
      rmSync(paths.socket, { force: true });
      return exitNow(0); // the lock goes with the process
    };
    if (EXIT_DELAY_MS > 0) setTimeout(exit, EXIT_DELAY_MS);
    else exit();
  };
  const serve = (socket: Socket<Connection>, request: SupervisorRequest): void => {
    socket.data.taken = true;
    connections--;
    if (request.type !== "start" || request.root !== root) {
      const message = request.root !== root ? `the supervisor at ${paths.socket} serves MYCR_ROOT ${root}, not ${request.root}` : "unknown request";
      socket.end(encodeMessage({ type: "error", message, code: 125 }));
      queueMicrotask(exitIfIdle);
      return;
    }
    containers++;
    socket.write(encodeMessage({ type: "accepted" }));
    let answered = false;
    const answer = (line: string): void => {
      if (answered) return;
      answered = true;
      socket.end(line);
    };
    superviseContainer(request.id, (report) => {
      answer(encodeMessage(report));
      collectSoon();
    })
      .catch((e: unknown) => answer(encodeMessage({ type: "error", message: (e as Error).message, code: e instanceof ContainerError ? e.exitCode : 125 })))
      .finally(() => {
        containers--;
        exitIfIdle();
      });
  };

  // Starting a container leaves garbage (specs, records, streams): collected once the
  // starts settle, so what stays is what the running containers need. One timer, not one each.
  let collecting: Timer | null = null;
  const collectSoon = (): void => {
    collecting ??= setTimeout(() => {
      collecting = null;
      Bun.gc(true);
    }, 1000);
  };

  rmSync(paths.socket, { force: true }); // a killed predecessor's
  const server = Bun.listen<Connection>({
    unix: paths.socket,
    socket: {
      open(socket) {
        connections++;
        socket.data = { lines: new MessageLines(), taken: false };
      },
      data(socket, chunk) {
        if (socket.data.taken) return;
        const request = socket.data.lines.push(chunk)[0];
        if (request) serve(socket, request);
      },
      close(socket) {
        if (socket.data.taken) return;
        connections--;
        exitIfIdle();
      },
      error() {
        // close follows
      },
    },
  });
  chmodSync(paths.socket, 0o600); // root's: a request starts a container
  tellStarter("ready");
  setTimeout(exitIfIdle, FIRST_CLIENT_MS).unref();
  // What a killed predecessor left (its containers died with it): recorded and removed now.
  void collectAbandoned(new StateStore());
  return new Promise<never>(() => {});
}
