// How a pull (or push) shows its progress on stderr: on a terminal one line per layer
// redrawn in place (docker's bars: Waiting, Downloading [==>  ] 1.2MB/4.5MB 3.1MB/s, Pull
// complete, Already exists; a layer is unpacked as it arrives, so there is no separate
// Extracting; a push says Pushing, Pushed, Layer already exists, Mounted from REPO);
// otherwise one line per finished layer, for logs.
import { writeAll } from "./output";
import type { PullEvent, PullProgress } from "../image/progress";
import { getWindowSize, isTerminal } from "../sys/pty";
import { log } from "./log";

export interface PullReporter {
  /** A message (warning, registry retry): a line above the bars. */
  say: (message: string) => void;
  /** Events of the pull; its "end" leaves the final state on screen and the cursor back. */
  progress: PullProgress;
}

/** docker's sizes: decimal units, so they match what registries and docker print. */
function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)}B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
}

/** Bun's fetch errors end in advice for programmers ("For more information, pass `verbose: true`…"). */
function reason(why: string): string {
  return why.replace(/\.? For more information.*$/s, "");
}

function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(1)}s` : `${Math.round(s)}s`;
}

/** What a layer's states are called: docker's words for a pull and for a push. */
interface Words {
  active: string;
  done: string;
  exists: string;
}
const PULL: Words = { active: "Downloading", done: "Pull complete", exists: "Already exists" };
const PUSH: Words = { active: "Pushing", done: "Pushed", exists: "Layer already exists" };

/** `info`: where a line goes when it is not our stderr (a served run's client's: never a terminal). */
export function pullReporter(opts: { quiet: boolean; push?: boolean; info?: (message: string) => void }): PullReporter {
  if (opts.quiet) return { say: () => {}, progress: () => {} };
  const words = opts.push ? PUSH : PULL;
  if (opts.info) return new Lines(words, opts.info);
  // a dumb terminal (emacs shell, some CI consoles) cannot move the cursor
  return isTerminal(2) && process.env.TERM !== "dumb" ? new Bars(words) : new Lines(words);
}

/** Not a terminal: a line when a layer is done (or found), so a log shows what happened. */
class Lines implements PullReporter {
  private ids: string[] = [];
  private told = new Set<number>();

  constructor(
    private readonly words: Words,
    private readonly info: (message: string) => void = (m) => log.info(m),
  ) {}

  say = (message: string): void => this.info(message);

  progress = (e: PullEvent): void => {
    if (e.kind === "end") return;
    if (e.kind === "layers") {
      this.ids = e.layers.map((l) => l.id);
      return;
    }
    const id = this.ids[e.layer] ?? `layer ${e.layer + 1}`;
    if (e.kind === "retry") this.info(`${id}: retrying (${reason(e.why)})`);
    if ((e.kind === "exists" || e.kind === "done" || e.kind === "mounted") && !this.told.has(e.layer)) {
      this.told.add(e.layer);
      const what = e.kind === "exists" ? this.words.exists : e.kind === "mounted" ? `Mounted from ${e.from}` : `${this.words.done} (${humanSize(e.size)} in ${seconds(e.seconds)})`;
      this.info(`${id}: ${what[0]!.toLowerCase()}${what.slice(1)}`);
    }
  };
}

type LayerState =
  | { id: string; size: number; phase: "waiting" | "exists" }
  | { id: string; size: number; phase: "mounted"; from: string }
  | { id: string; size: number; phase: "downloading"; bytes: number; since: number }
  | { id: string; size: number; phase: "done"; seconds: number };

/** Redraws at most this often: enough to look alive, cheap for a slow terminal or ssh. */
const FRAME_MS = 100;
const BAR = 50;
/** The brackets and the widest "  999.9MB/999.9MB  999.9MB/s" a bar leaves room for. */
const TAIL = 2 + 2 + 6 + 1 + 6 + 2 + 6 + 2;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** A terminal: the layers' lines redrawn in place, the cursor hidden meanwhile. */
class Bars implements PullReporter {
  private layers: LayerState[] = [];
  /** Lines of ours on the screen, above the cursor. */
  private drawn = 0;
  private lastDraw = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** More layers than the terminal has rows: lines instead (a redraw could not reach them). */
  private fallback: Lines | undefined;
  private cursorHidden = false;
  constructor(private readonly words: Words) {}
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.end(); // takes our handlers away
    // the default action (dying by the signal) unless someone else handles it
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  say = (message: string): void => {
    if (this.fallback) return this.fallback.say(message);
    this.erase();
    log.info(message);
    this.draw();
  };

  progress = (e: PullEvent): void => {
    if (e.kind === "end") return this.end();
    if (this.fallback) return this.fallback.progress(e);
    if (e.kind === "layers") {
      const rows = getWindowSize(2)?.rows ?? 24;
      if (e.layers.length >= rows - 1) {
        this.fallback = new Lines(this.words);
        return this.fallback.progress(e);
      }
      this.layers = e.layers.map((l) => ({ id: l.id, size: l.size, phase: "waiting" }));
      this.hideCursor();
      this.draw();
      return;
    }
    const layer = this.layers[e.layer];
    if (!layer) return;
    const { id, size } = layer;
    switch (e.kind) {
      case "exists":
        if (layer.phase !== "done") this.layers[e.layer] = { id, size, phase: "exists" };
        break;
      case "mounted":
        this.layers[e.layer] = { id, size, phase: "mounted", from: e.from };
        break;
      case "downloading": {
        const since = layer.phase === e.kind ? layer.since : performance.now();
        this.layers[e.layer] = { id, size, phase: e.kind, bytes: e.bytes, since };
        break;
      }
      case "retry":
        // the download goes on from where it broke (Range): the bar keeps its bytes
        this.say(`${id}: retrying (${reason(e.why)})`);
        break;
      case "done":
        this.layers[e.layer] = { id, size, phase: "done", seconds: e.seconds };
        break;
    }
    this.schedule();
  };

  private end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.layers.length > 0 && !this.fallback) this.draw();
    this.showCursor();
    // what comes after (a message, another pull's events) is printed below, as plain lines
    this.fallback = new Lines(this.words);
    this.drawn = 0;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastDraw + FRAME_MS - performance.now();
    if (wait <= 0) return this.draw();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
  }

  private write(text: string): void {
    const data = Buffer.from(text);
    writeAll(2, data);
  }

  /** Up to the first of our lines and everything below it cleared. */
  private erase(): void {
    if (this.drawn > 0) this.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.layers.length === 0) return;
    // a character short of the width: a full line would wrap on some terminals
    const width = Math.max(1, (getWindowSize(2)?.cols || 80) - 1);
    let frame = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : "";
    for (const l of this.layers) frame += `\x1b[2K${render(l, width, this.words)}\n`;
    this.write(frame);
    this.drawn = this.layers.length;
    this.lastDraw = performance.now();
  }

  private hideCursor(): void {
    if (this.cursorHidden) return;
    this.cursorHidden = true;
    this.write("\x1b[?25l");
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }

  private showCursor(): void {
    if (!this.cursorHidden) return;
    this.cursorHidden = false;
    this.write("\x1b[?25h");
    for (const s of SIGNALS) process.removeListener(s, this.onSignal);
  }
}

/** One layer's line: the longest form that fits the width, the shortest one cut to it. */
function render(l: LayerState, width: number, words: Words): string {
  const fit = (...forms: string[]): string => forms.find((f) => f.length <= width) ?? forms[forms.length - 1]!.slice(0, width);
  switch (l.phase) {
    case "waiting":
      return fit(`${l.id}: Waiting`);
    case "exists":
      return fit(`${l.id}: ${words.exists}`);
    case "mounted":
      return fit(`${l.id}: Mounted from ${l.from}`, `${l.id}: Mounted`);
    case "done":
      return fit(`${l.id}: ${words.done}  ${humanSize(l.size)} in ${seconds(l.seconds)}`, `${l.id}: ${words.done}  ${humanSize(l.size)}`, `${l.id}: ${words.done}`);
    default: {
      const head = `${l.id}: ${words.active} `;
      const elapsed = (performance.now() - l.since) / 1000;
      const sizes = `${humanSize(l.bytes)}/${humanSize(l.size)}`;
      const speed = elapsed > 0.2 ? `  ${humanSize(l.bytes / elapsed)}/s` : "";
      // the same room whatever the numbers, so the bars of all layers line up
      const room = Math.min(BAR, width - head.length - TAIL);
      const withBar = room >= 10 ? [`${head}${bar(l.bytes / Math.max(l.size, 1), room)}  ${sizes}${speed}`] : [];
      return fit(...withBar, `${head}${sizes}${speed}`, `${head}${sizes}`);
    }
  }
}

function bar(fraction: number, width: number): string {
  const filled = Math.min(width, Math.floor(Math.min(1, fraction) * width));
  const body = filled >= width ? "=".repeat(width) : "=".repeat(filled) + ">" + " ".repeat(width - filled - 1);
  return `[${body}]`;
}
