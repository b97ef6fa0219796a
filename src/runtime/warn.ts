// Warnings from the runtime (a failed poststart hook, say). The CLI decides how they
// are shown; the runtime only reports them.
let sink: (message: string) => void = (m) => process.stderr.write(`mycr: warning: ${m}\n`);

export function setWarningSink(fn: (message: string) => void): void {
  sink = fn;
}

export function warn(message: string): void {
  sink(message);
}
