// A real terminal for the tests: a private tmux server whose one pane runs a shell,
// typed into and read back the way a user would.
import { MYCR, mycrEnv } from "./env";

let counter = 0;

export class Terminal {
  private readonly socket = `mycr-test-${process.pid}-${counter++}`;

  private tmux(...args: string[]): string {
    const p = Bun.spawnSync(["tmux", "-L", this.socket, ...args], { env: { ...process.env, TMUX: "" } });
    if (p.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${p.stderr.toString()}`);
    return p.stdout.toString();
  }

  /** Starts `sh` with prompt "outer$ " in a cols x rows terminal, mycr's test environment set. */
  static start(cols = 80, rows = 24): Terminal {
    const t = new Terminal();
    const env = Object.entries({ ...mycrEnv(), PS1: "outer$ ", MYCR: MYCR, TERM: "xterm" })
      .map(([k, v]) => `${k}='${v}'`)
      .join(" ");
    t.tmux("new-session", "-d", "-s", "main", "-x", String(cols), "-y", String(rows), `env -i ${env} sh`);
    return t;
  }

  /** Types text literally, then Enter. */
  line(text: string): void {
    this.tmux("send-keys", "-t", "main", "-l", text);
    this.tmux("send-keys", "-t", "main", "Enter");
  }

  /** Types text literally, without Enter (to complete it with Tab, say). */
  type(text: string): void {
    this.tmux("send-keys", "-t", "main", "-l", text);
  }

  key(name: string): void {
    this.tmux("send-keys", "-t", "main", name);
  }

  /** What is on the screen; with `history`, also what scrolled off the top. */
  screen(history = false): string {
    return this.tmux("capture-pane", "-p", "-t", "main", ...(history ? ["-S", "-"] : []));
  }

  /** Whether the terminal shows its cursor (a program may hide it with ESC[?25l). */
  cursorVisible(): boolean {
    return this.tmux("display-message", "-p", "-t", "main", "#{cursor_flag}").trim() === "1";
  }

  resize(cols: number, rows: number): void {
    this.tmux("resize-window", "-t", "main", "-x", String(cols), "-y", String(rows));
  }

  clear(): void {
    this.line("clear");
    this.tmux("clear-history", "-t", "main");
  }

  /** Waits until the screen matches (tmux drops the blanks at the ends of lines); returns the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (pattern.test(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${s}`);
      await Bun.sleep(25);
    }
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // already gone
    }
  }
}
