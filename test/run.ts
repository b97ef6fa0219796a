// The test runner: `bun test/run.ts [PATTERN...]`. Runs each test file on its own
// (`bun test FILE`), then checks that the file left nothing of mycr's on the host:
// a leak counts as a failed test. Ends with the line CI reads: "N passed, N failed".
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO, WORK, MYCR, mycrEnv } from "./helpers/env";
import { findLeaks, foreignNamespaceProcesses, mycrPids, removeNetworkLeftovers } from "./helpers/leaks";
import { removeRootlessUser } from "./helpers/rootless-user";

const patterns = process.argv.slice(2);
const files = readdirSync(join(REPO, "test"))
  .filter((f) => f.endsWith(".test.ts"))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();

if (process.getuid?.() !== 0) {
  console.error("test/run.ts: the tests create namespaces, mounts and cgroups: run them as root (npm test does)");
  process.exit(2);
}

interface Counts {
  passed: number;
  failed: number;
}

function junitCounts(path: string): Counts | null {
  let xml: string;
  try {
    xml = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  const head = /<testsuites\b[^>]*>/.exec(xml)?.[0] ?? "";
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(head)?.[1] ?? 0);
  const tests = attr("tests");
  const failed = attr("failures") + attr("errors");
  return { passed: tests - failed - attr("skipped"), failed };
}

function unescapeXml(s: string): string {
  return s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/**
 * Each failed test of a junit report as "name: what it said", squeezed onto one line, so the
 * summary at the end of a long CI log (often all that is kept of it) says what failed.
 */
function junitFailures(path: string): string[] {
  let xml: string;
  try {
    xml = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*>\s*<(?:failure|error)\b([^>]*)>/g)) {
    const said = unescapeXml(/\bmessage="([^"]*)"/.exec(m[2]!)?.[1] ?? "").replace(/\s+/g, " ").trim();
    out.push(`${unescapeXml(m[1]!)}${said ? `: ${said.slice(0, 300)}` : ""}`);
  }
  return out;
}

async function settle(baseline: Set<string>): Promise<string[]> {
  // Processes being reaped and lazy unmounts may take a moment.
  for (let i = 0; i < 20; i++) {
    if (findLeaks(baseline).length === 0) return [];
    await Bun.sleep(100);
  }
  return findLeaks(baseline);
}

/** After a leak is reported, clear it so the next file is judged on its own. */
async function cleanUp(): Promise<void> {
  for (const pid of mycrPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await Bun.sleep(200);
  // Detached containers stay until `rm`; OCI containers have no owner for gc to miss:
  // remove both the way their users would.
  const detached = Bun.spawnSync([MYCR, "ps", "-aq"], { env: mycrEnv() }).stdout.toString().split("\n").filter(Boolean);
  if (detached.length > 0) Bun.spawnSync([MYCR, "rm", "-f", ...detached], { env: mycrEnv(), stdout: "ignore", stderr: "ignore" });
  const ids = Bun.spawnSync([MYCR, "list", "-q"], { env: mycrEnv() }).stdout.toString().split("\n").filter(Boolean);
  for (const id of ids) Bun.spawnSync([MYCR, "delete", "--force", id], { env: mycrEnv(), stdout: "ignore", stderr: "ignore" });
  Bun.spawnSync([MYCR, "gc"], { env: mycrEnv(), stdout: "ignore", stderr: "ignore" });
  removeNetworkLeftovers();
  removeRootlessUser(); // the rootless tests' user, its processes and stores
}

const baseline = foreignNamespaceProcesses();
const total: Counts = { passed: 0, failed: 0 };
const failures: string[] = [];
rmSync(join(WORK, "junit"), { recursive: true, force: true });
mkdirSync(join(WORK, "junit"), { recursive: true });

for (const file of files) {
  const report = join(WORK, "junit", `${file}.xml`);
  const proc = Bun.spawn(["bun", "test", `./test/${file}`, "--reporter=junit", `--reporter-outfile=${report}`, "--timeout=60000"], {
    cwd: REPO,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await proc.exited;
  const counts = junitCounts(report) ?? { passed: 0, failed: 0 };
  if (code !== 0 && counts.failed === 0) {
    counts.failed = 1; // the file crashed or could not load
    failures.push(`${file}: bun test exited ${code}`);
  } else if (counts.failed > 0) {
    failures.push(`${file}: ${counts.failed} failed`, ...junitFailures(report).map((f) => `  ${f}`));
  }
  const leaks = await settle(baseline);
  if (leaks.length > 0) {
    console.error(`\nLEAK after ${file}:\n  ${leaks.join("\n  ")}`);
    counts.failed += 1;
    failures.push(`${file}: left ${leaks.length} object(s) behind`);
    await cleanUp();
  }
  total.passed += counts.passed;
  total.failed += counts.failed;
}

if (failures.length > 0) console.error(`\nFailed:\n  ${failures.join("\n  ")}`);
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exit(total.failed === 0 ? 0 : 1);
