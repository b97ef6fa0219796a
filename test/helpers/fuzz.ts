// Shared pieces of the fuzz tests: random values of every awkward kind, and the check
// that a mycr invocation failed the way a user may expect (one line, no stack trace).
import type { Result } from "./mycr";
import type { Random } from "./random";

export const AWKWARD_STRINGS: readonly string[] = [
  "", " ", "-", "--", "-1", "0", "1e999", "NaN", "null", "true",
  "a".repeat(300), "x".repeat(70_000),
  "\u0000", "nul\u0000inside", "\n", "line one\nline two", "\r\n", "\t", "\u001b[31mred",
  "é", "日本語", "𝕏🙂", "\ud800", "\u202eevil", "\ufeffbom", "\u200b",
  "../../../../etc", "/", "/nonexistent/path", "//double//slash", "/proc/self/fd/0",
  "%s%n%x", "${HOME}", "$(id)", "`id`", "'quoted'", '"dq"', "\\", "a=b", "=", "k=v=w",
  "CAP_BOGUS", "SCMP_ACT_BOGUS", "bogusfs", "rw,bogus=1",
];

export const AWKWARD_NUMBERS: readonly number[] = [
  0, -1, 1, 2, 7, 255, 4096, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 2 ** 63, -(2 ** 63), 1e308, -1e308, 1.5, -0.5, 1e-9,
];

/** A nested array `depth` levels deep. */
export function deep(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

export function awkwardValue(rnd: Random, depth = 0): unknown {
  switch (rnd.int(0, 7)) {
    case 0:
      return rnd.pick(AWKWARD_STRINGS);
    case 1:
      return rnd.pick(AWKWARD_NUMBERS);
    case 2:
      return rnd.chance(0.5);
    case 3:
      return null;
    case 4:
      return depth > 2 ? [] : Array.from({ length: rnd.int(0, 3) }, () => awkwardValue(rnd, depth + 1));
    case 5:
      return depth > 2 ? {} : Object.fromEntries(Array.from({ length: rnd.int(0, 3) }, () => [rnd.pick(AWKWARD_STRINGS), awkwardValue(rnd, depth + 1)]));
    case 6:
      return deep(rnd.pick([10, 500, 5000]));
    default:
      return rnd.pick(AWKWARD_STRINGS).repeat(rnd.int(1, 3));
  }
}

/** Problems with how an invocation ended; empty when it ended as a user may expect. */
export function outcomeProblems(r: Result, elapsedMs: number, timeoutMs: number): string[] {
  const problems: string[] = [];
  if (elapsedMs >= timeoutMs) problems.push(`hung: killed after ${timeoutMs} ms`);
  if (/^\s+at /m.test(r.stderr)) problems.push("stack trace on stderr");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  if (r.exitCode === 125) {
    if (lines.length !== 1) problems.push(`exit 125 with ${lines.length} lines on stderr`);
    else if (!lines[0]!.startsWith("mycr: ")) problems.push("the error line does not start with \"mycr: \"");
  } else if (r.exitCode !== 0) {
    // The container's own status (the input was valid): at most mycr's one line about it.
    if (lines.length > 1 || lines.some((l) => !l.startsWith("mycr: "))) problems.push(`exit ${r.exitCode} with unexpected stderr`);
  }
  return problems;
}
