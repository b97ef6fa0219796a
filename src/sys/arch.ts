// Raw syscall numbers for calls glibc does not wrap. Only x86_64 and aarch64 are built.
type SyscallTable = { pivot_root: number; openat2: number; close_range: number };

const TABLES: Record<string, SyscallTable> = {
  x64: { pivot_root: 155, openat2: 437, close_range: 436 },
  arm64: { pivot_root: 41, openat2: 437, close_range: 436 },
};

const table = TABLES[process.arch];
if (!table) throw new Error(`mycr supports x86_64 and aarch64, not ${process.arch}`);

export const SYS: SyscallTable = table;
