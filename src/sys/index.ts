// src/sys is the only room that touches bun:ffi. Callers import from here.
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
export * from "./capabilities";
export * from "./seccomp";
export * from "./files-at";
export * from "./lock";
