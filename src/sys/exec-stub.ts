// The native exec's last hop (runtime/exec-native.ts): a tiny static executable in a
// sealed memfd that the C child execs, and that execs the container's program in turn.
// The child is a clone of this process, so its /proc/self/exe is mycr's binary, the
// host's file: a program that is /proc/self/exe (or reaches it through interpreter
// lines) would run that binary inside the container, which could then write to it
// (CVE-2019-5736). Exec'd from the stub, the same path leads to the stub, which nothing
// can write to (F_SEAL_WRITE) and which runs no code of the container's choosing.
// Run again by the container (/proc/self/exe, an interpreter line naming it) it finds
// no fd 3 of ours and exits: no exec loop. The stub, x86-64 (`as` of this, 128 bytes):
//   mov edi, 3; mov esi, 2; mov edx, 1; mov eax, 72; syscall   fcntl(3, F_SETFD, FD_CLOEXEC): our sync socket
//   test rax, rax; js 2f                                        none: not started by us
//   mov rbx, [rsp]; mov rdi, [rsp+8]; lea rsi, [rsp+16]         argc; argv[0]: the program; its argv
//   lea rdx, [rsp+rbx*8+16]; mov eax, 59; syscall               envp; execve
//   neg eax; cmp eax, 2; jne 1f; mov eax, 79                    ENOENT of a file that exists: its interpreter (ELIBACC)
//   1: sub rsp, 16; mov dword ptr [rsp], 3; mov dword ptr [rsp+4], -1
//   mov dword ptr [rsp+8], eax; mov dword ptr [rsp+12], 0       the report {error, step -1, errno, 0}
//   mov edi, 3; mov rsi, rsp; mov edx, 16; mov eax, 1; syscall  written to fd 3
//   2: mov edi, 127; mov eax, 231; syscall                      exit_group(127)
import { ptr } from "bun:ffi";
import { SYS } from "./arch";
import { check, cstr, errno, libc, syscall } from "./libc";
import { close } from "./fd";
import { writeSync } from "node:fs";

const CODE: Record<string, { machine: number; code: string; execveat: number }> = {
  x64: {
    machine: 0x3e,
    execveat: 322,
    code:
      "bf03000000be02000000ba01000000b8480000000f054885c07859488b1c24488b7c2408488d742410488d54dc10b83b0000000f05f7d883f80275" +
      "05b84f0000004883ec10c7042403000000c7442404ffffffff89442408c744240c00000000bf030000004889e6ba10000000b8010000000f05bf7f" +
      "000000b8e70000000f05",
  },
};

const BASE = 0x400000n;
const HEADERS = 64 + 56;

/** An ELF executable of one loadable segment: `code`, entered at its first byte. */
function elf(machine: number, code: Buffer): Buffer {
  const b = Buffer.alloc(HEADERS + code.length);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELF, 64-bit, little-endian, version 1, System V
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BASE + BigInt(HEADERS), 24); // entry
  b.writeBigUInt64LE(64n, 32); // program headers right after this one
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  // PT_LOAD, R+X: the whole file at BASE
  b.writeUInt32LE(1, 64);
  b.writeUInt32LE(5, 68);
  b.writeBigUInt64LE(0n, 72);
  b.writeBigUInt64LE(BASE, 80);
  b.writeBigUInt64LE(BASE, 88);
  b.writeBigUInt64LE(BigInt(b.length), 96);
  b.writeBigUInt64LE(BigInt(b.length), 104);
  b.writeBigUInt64LE(0x1000n, 112);
  code.copy(b, HEADERS);
  return b;
}

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const MFD_EXEC = 0x10;
const EINVAL = 22;
const F_ADD_SEALS = 1033;
const SEALS = 1 | 2 | 4 | 8; // SEAL, SHRINK, GROW, WRITE

export interface ExecStub {
  /** The sealed memfd (close-on-exec; the clone child has its own copy). */
  fd: number;
  /** execveat's number on this architecture. */
  execveat: number;
}

let made: ExecStub | null | undefined;

/** The stub of this architecture, made once per process; null where there is none (arm64 for now). */
export function execStub(): ExecStub | null {
  if (made !== undefined) return made;
  const arch = CODE[process.arch];
  if (!arch) return (made = null);
  const name = cstr("mycr-exec-stub");
  // MFD_EXEC (Linux 6.3+) where vm.memfd_noexec asks for it; older kernels refuse the flag.
  let fd = Number(syscall(SYS.memfd_create, ptr(name), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (fd < 0 && errno() === EINVAL) fd = Number(syscall(SYS.memfd_create, ptr(name), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  fd = check(fd, "memfd_create", "mycr-exec-stub");
  try {
    writeSync(fd, elf(arch.machine, Buffer.from(arch.code, "hex")));
    check(libc.fcntl(fd, F_ADD_SEALS, SEALS), "fcntl", "F_ADD_SEALS");
  } catch (e) {
    close(fd);
    throw e;
  }
  return (made = { fd, execveat: arch.execveat });
}
