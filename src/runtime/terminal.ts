// The runtime's side of a container's terminal: mycr's own terminal goes raw, bytes are
// copied both ways between it and the pty master, window size changes follow, and the
// terminal is put back exactly as it was, whatever ends the run.
//
// Bun specifics (measured): a pty master must be read with tty.ReadStream (Bun.file()
// streams pread and fail with ESPIPE); mycr's stdin with process.stdin, which polls and
// does not hold a thread-pool thread (fs.createReadStream on fd 0 blocks one, delaying
// every other fs call). Writes to the master go through the thread pool one at a time,
// so input order is kept and a container that stops reading cannot block mycr.
import { write as fsWrite, writeSync } from "node:fs";
import type { ReadStream } from "node:tty";
import { close, getTerminalMode, getWindowSize, hangUpTerminal, openPeer, isTerminal, rawMode, setTerminalMode, setWindowSize, type TerminalMode } from "../sys";

/**
 * A stream reading the pty master `fd` (and closing it at its end). node:tty is loaded
 * here, not at the top: it brings Node's whole stream stack (~8 ms of CPU at start-up,
 * docs/performance.md), which a container without a terminal never needs.
 */
function masterStream(fd: number): ReadStream {
  const tty = require("node:tty") as typeof import("node:tty");
  return new tty.ReadStream(fd);
}

export interface TerminalOptions {
  /** Copy mycr's stdin to the container (-i). */
  stdin: boolean;
}

export interface TerminalSession {
  /** Resolves when the container side of the terminal is closed and its output copied. */
  readonly drained: Promise<void>;
  /** Stops copying and restores mycr's terminal; safe to call more than once. */
  close(): void;
}

/** ^D: what a terminal turns into end-of-file for a reader in canonical mode. */
const VEOF = 0x04;

/** Writes to an fd one chunk after another without blocking the event loop. */
function orderedWriter(fd: number): { write(data: Uint8Array): void; stop(): void } {
  const queue: Uint8Array[] = [];
  let busy = false;
  let stopped = false;
  const next = (): void => {
    const chunk = queue.shift();
    if (!chunk || stopped) {
      busy = false;
      return;
    }
    busy = true;
    fsWrite(fd, chunk, (err, n) => {
      if (err || stopped) {
        busy = false;
        return; // the container side is gone: nothing more to deliver
      }
      if (n < chunk.length) queue.unshift(chunk.subarray(n));
      next();
    });
  };
  return {
    write(data) {
      if (stopped) return;
      queue.push(data);
      if (!busy) next();
    },
    stop() {
      stopped = true;
      queue.length = 0;
    },
  };
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off);
}

/** Puts the user's terminal in raw mode; the returned function puts it back. */
export function makeRaw(fd: number): () => void {
  const saved: TerminalMode = getTerminalMode(fd);
  setTerminalMode(fd, rawMode(saved));
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    setTerminalMode(fd, saved, true);
  };
}

/** Attaches mycr's stdio to the container's terminal, whose master is `master` (now owned here). */
export function attachTerminal(master: number, opts: TerminalOptions): TerminalSession {
  const sizeSource = [1, 0, 2].find((fd) => isTerminal(fd));
  const restore = opts.stdin && isTerminal(0) ? makeRaw(0) : null;
  const input = orderedWriter(master);

  const resize = (): void => {
    const size = sizeSource === undefined ? null : getWindowSize(sizeSource);
    if (size) setWindowSize(master, size);
  };
  process.on("SIGWINCH", resize);
  resize(); // it may have changed while the container was being set up

  let masterOpen = true;
  const output = masterStream(master); // closes the master when it ends
  /** Stops copying; the stream closes the master once its pending read returns. */
  const release = (): void => {
    if (!masterOpen) return;
    masterOpen = false;
    input.stop();
    output.destroy();
  };
  /**
   * mycr's own terminal is gone (closed window, ssh dropped): hang up the container's
   * too, so a shell there reads end-of-file and exits, as it would on a real line.
   * Closing the master is not enough: a read of it is pending in a thread and keeps it open.
   */
  const hangUp = (): void => {
    if (!masterOpen) return;
    try {
      const peer = openPeer(master);
      try {
        hangUpTerminal(peer);
      } finally {
        close(peer);
      }
    } catch {
      // the container's side is already gone
    }
    release();
  };

  // SIGHUP is how mycr learns that its terminal went away (a closed window); it still
  // goes to PID 1 as well (signals.ts), but a shell as PID 1 ignores it: the hang-up
  // of its own terminal is what makes it read end-of-file and exit.
  process.on("SIGHUP", hangUp);

  let lastInput = 0x0a;
  const onData = (chunk: Buffer): void => {
    if (chunk.length > 0) lastInput = chunk[chunk.length - 1]!;
    input.write(chunk);
  };
  // A pipe on stdin ends: the terminal's own end-of-file (a second ^D when a line is open).
  // A terminal on stdin never ends in raw mode: its end is a hang-up.
  const stdinIsTerminal = isTerminal(0);
  const onEnd = (): void => {
    if (stdinIsTerminal) hangUp();
    else input.write(new Uint8Array(lastInput === 0x0a ? [VEOF] : [VEOF, VEOF]));
  };
  const onError = (): void => (stdinIsTerminal ? hangUp() : onEnd());
  if (opts.stdin) {
    process.stdin.on("data", onData);
    process.stdin.on("end", onEnd);
    process.stdin.on("error", onError);
  }

  const drained = new Promise<void>((resolve) => {
    const done = (): void => {
      masterOpen = false;
      resolve();
    };
    output.on("data", (chunk: Buffer) => {
      try {
        writeAll(1, chunk);
      } catch {
        hangUp(); // EIO/EPIPE: nobody is reading us any more
      }
    });
    // EIO: every slave fd was closed (the container is gone), the buffer is read out.
    output.on("error", done);
    output.on("end", done);
    output.on("close", done);
  });

  let closed = false;
  return {
    drained,
    close() {
      if (closed) return;
      closed = true;
      process.off("SIGWINCH", resize);
      process.off("SIGHUP", hangUp);
      if (opts.stdin) {
        process.stdin.off("data", onData);
        process.stdin.off("end", onEnd);
        process.stdin.off("error", onError);
        process.stdin.pause();
      }
      release();
      try {
        restore?.();
      } catch {
        // the terminal itself is gone (hung up): there is nothing left to restore
      }
    },
  };
}

/**
 * Copies the container's terminal output to `sink` without touching mycr's own terminal
 * or signals: for a detached container (-dt), whose terminal nobody is attached to.
 */
export function copyTerminal(master: number, sink: (chunk: Buffer) => void): DetachedTerminal {
  const output = masterStream(master); // closes the master when it ends
  const input = orderedWriter(master);
  let open = true;
  const drained = new Promise<void>((resolve) => {
    // No more input once the master may be closed (its number may be reused).
    const done = (): void => {
      open = false;
      input.stop();
      resolve();
    };
    output.on("data", sink);
    // EIO: every slave fd was closed (the container is gone), the buffer is read out.
    output.on("error", done);
    output.on("end", done);
    output.on("close", done);
  });
  return {
    drained,
    write: (data) => input.write(data),
    resize(size) {
      if (open) setWindowSize(master, size);
    },
    close() {
      open = false;
      input.stop();
      output.destroy();
    },
  };
}

/** A detached container's terminal (-dt): what an attached client types and its window size go to it. */
export interface DetachedTerminal extends TerminalSession {
  write(data: Uint8Array): void;
  resize(size: { rows: number; cols: number }): void;
}
