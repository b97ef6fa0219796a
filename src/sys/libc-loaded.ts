// Whether this process has loaded libc through bun:ffi (libc.ts): the CLI then ends
// with _exit(2), skipping Bun's teardown; a command that never needed it (state,
// start) ends with process.exit, because loading bun:ffi and libc only to exit costs
// more than the teardown saves (docs/performance.md, "The OCI verbs' loads").
let loaded = false;

export function noteLibcLoaded(): void {
  loaded = true;
}

export function libcLoaded(): boolean {
  return loaded;
}
