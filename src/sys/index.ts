// src/sys is the only room that touches bun:ffi. Callers import from here, or from the
// one module they need: this barrel loads all of src/sys (the native init's C source and
// prebuilt object among it), so a module on a light command's path (state, start, kill,
// delete: docs/development.md, "What a command loads") imports the module itself.
export * from "./constants";
export * from "./errno";
export * from "./namespaces";
export * from "./mount";
export * from "./fs";
export * from "./process";
export * from "./fd";
export * from "./net";
export * from "./pty";
export * from "./termios";
export * from "./credentials";
export * from "./openat";
export * from "./spawn";
export { SYS } from "./arch";
export { bindEveryLibcSymbol } from "./libc";
export * from "./capabilities";
export * from "./seccomp";
export * from "./files-at";
export * from "./lock";
export * from "./pipe";
export * from "./new-mount";
export * from "./sealed-exe";
export * from "./kernel";
export * from "./bytes";
export * from "./quota";
export * from "./bpf";
export * from "./sched";
export * from "./spawn-namespaced";
export * from "./child-process";
export { nativeCodeSource } from "./native-cc";
export * from "./native-steps";
export * from "./exec-stub";
