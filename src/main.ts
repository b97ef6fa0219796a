import { trace } from "./runtime/trace";
import { runServed } from "./engine/served-run-client";
import { parseLightCall } from "./cli/oci-light-call";
trace("main");
// Entry point. The hidden `init` (a container's PID 1 before execve) is dispatched
// before the CLI is loaded: it must start fast and stay small.
const argv = process.argv.slice(2);

if (argv[0] === "init") {
  void import("./runtime/init").then((m) => m.initMain());
} else if (argv[0] === "supervisor" && (process.env.MYCR_SUPERVISOR === "1" || process.env.MYCR_SUPERVISOR?.startsWith("adopt:"))) {
  // the detached containers' supervisor (src/engine/supervisor.ts), started by `run -d` only
  // ("adopt:ID": made from the keeper of the container the first `run -d` started, engine/adopt.ts)
  const adopting = process.env.MYCR_SUPERVISOR.startsWith("adopt:") ? process.env.MYCR_SUPERVISOR.slice(6) : undefined;
  void import("./engine/supervisor").then((m) => m.supervisorMain(() => import("./cli/served-run").then((c) => c.serveRun), adopting));
} else if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  // Clients probe a runtime with --version: answered without loading the CLI (its chunk
  // with citty and consola); any other spelling goes through the CLI and prints the same.
  void import("./cli/version-number").then(async (m) => process.exit(await m.printVersion()));
} else {
  // `run` (or docker's `container run`) asks a running supervisor to serve it
  // (engine/served-run-client.ts): root's only (its socket is root's), and never the OCI
  // runtime's `run --bundle`.
  const isRun = argv[0] === "run" || (argv[0] === "container" && argv[1] === "run");
  const serve = isRun && process.geteuid?.() === 0 && !argv.includes("--bundle");
  // The OCI verbs platforms call for each container, in the forms they send, skip the
  // CLI (cli/oci-light.ts); that module sends anything else on to it. As the CLI decides
  // (cli/index.ts), only a caller whose uid is 0 is root's OCI face.
  const light = !isRun && process.getuid?.() === 0 ? parseLightCall(argv) : null;
  const early = serve ? runServed(argv) : light ? import("./cli/oci-light").then((m) => m.runLightCall(light)) : Promise.resolve(null);
  void early.then(async (code) => {
    if (code !== null) return light ? (await import("./cli/finish")).finish(code) : process.exit(code);
    // the CLI reads its words again from /proc/self/cmdline, bytes and all (cli/raw-argv.ts)
    const [cli, { finish }] = await Promise.all([import("./cli/index"), import("./cli/finish")]);
    return finish(await cli.runCli());
  });
}
export {};
