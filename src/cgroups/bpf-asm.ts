// A small eBPF assembler: the few instructions a device filter needs, with jumps to
// named labels resolved into offsets. struct bpf_insn is 8 bytes: opcode u8,
// dst_reg:4 | src_reg:4 (low nibble dst on little-endian, the only kind mycr builds for),
// off s16, imm s32 (include/uapi/linux/bpf.h, Documentation/bpf/standardization).

// Instruction classes, sizes, modes, sources and operations.
const LDX = 0x01;
const ALU = 0x04; // 32-bit: results zero-extend into the 64-bit register
const JMP = 0x05;
const JMP32 = 0x06; // compares the low 32 bits: a u32 field against any u32 immediate
const ALU64 = 0x07;
const SIZE_W = 0x00;
const MODE_MEM = 0x60;
const SRC_K = 0x00;
const OP_AND = 0x50;
const OP_RSH = 0x70;
const OP_MOV = 0xb0;
const OP_JA = 0x00;
const OP_JNE = 0x50;
const OP_JSET = 0x40;
const OP_EXIT = 0x90;

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

interface Insn {
  kind: "insn";
  code: number;
  dst: Reg;
  src: Reg;
  off: number;
  imm: number;
  /** A jump's target: `off` is computed from it when assembled. */
  target?: string;
}

interface Label {
  kind: "label";
  name: string;
}

export type Item = Insn | Label;

const insn = (code: number, dst: Reg, imm = 0, target?: string, off = 0): Insn => ({ kind: "insn", code, dst, src: 0, off, imm, ...(target ? { target } : {}) });

/** dst = *(u32 *)(src + off) */
export const loadWord = (dst: Reg, src: Reg, off: number): Insn => ({ kind: "insn", code: LDX | SIZE_W | MODE_MEM, dst, src, off, imm: 0 });
/** dst = (u32)dst & imm */
export const and32 = (dst: Reg, imm: number): Insn => insn(ALU | OP_AND | SRC_K, dst, imm);
/** dst = (u32)dst >> imm */
export const rsh32 = (dst: Reg, imm: number): Insn => insn(ALU | OP_RSH | SRC_K, dst, imm);
/** dst = imm */
export const mov64 = (dst: Reg, imm: number): Insn => insn(ALU64 | OP_MOV | SRC_K, dst, imm);
/** goto target */
export const ja = (target: string): Insn => insn(JMP | OP_JA, 0, 0, target);
/** if ((u32)dst != imm) goto target */
export const jne32 = (dst: Reg, imm: number, target: string): Insn => insn(JMP32 | OP_JNE | SRC_K, dst, imm | 0, target);
/** if (dst & imm) goto target */
export const jset = (dst: Reg, imm: number, target: string): Insn => insn(JMP | OP_JSET | SRC_K, dst, imm, target);
/** return r0 */
export const exit = (): Insn => insn(JMP | OP_EXIT, 0);
export const label = (name: string): Label => ({ kind: "label", name });

export class AssemblyError extends Error {}

/** The program as the kernel takes it: labels resolved, 8 bytes per instruction. */
export function assemble(items: Item[]): Uint8Array {
  const at = new Map<string, number>();
  const insns: Insn[] = [];
  for (const item of items) {
    if (item.kind === "label") {
      if (at.has(item.name)) throw new AssemblyError(`label ${item.name} defined twice`);
      at.set(item.name, insns.length);
    } else insns.push(item);
  }
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((ins, i) => {
    let off = ins.off;
    if (ins.target !== undefined) {
      const to = at.get(ins.target);
      if (to === undefined) throw new AssemblyError(`jump to undefined label ${ins.target}`);
      off = to - (i + 1); // relative to the next instruction
      if (off < 0 || off > 0x7fff) throw new AssemblyError(`jump from ${i} to ${ins.target} (${to}) is out of reach`);
    }
    view.setUint8(i * 8, ins.code);
    view.setUint8(i * 8 + 1, (ins.src << 4) | ins.dst);
    view.setInt16(i * 8 + 2, off, true);
    view.setInt32(i * 8 + 4, ins.imm | 0, true);
  });
  return out;
}
