/**
 * Quantum and classical registers of a program and the resolution of operands (`q`, `q[2]`,
 * `q[0:2]`, `$3`) to flat indices. Flat indices follow declaration order: the first register
 * declared starts at 0.
 */
import type { Register } from '../circuit.ts';
import type { Token } from './lexer.ts';
import { QasmError } from './qasm-error.ts';

/** The register name used for hardware qubits `$0`, `$1`, ...: one register `$` of size max index + 1. */
export const HARDWARE_REGISTER = '$';

/**
 * An operand as written:
 * - `hardware`: `$n`;
 * - `whole`: a register name alone (broadcast over the register);
 * - `index`: `r[i]` (negative `i` counts from the end, as in OpenQASM 3);
 * - `range`: `r[a:b]` or `r[a:step:b]`, end inclusive.
 */
export type Operand =
  | { readonly kind: 'hardware'; readonly index: number; readonly at: Token }
  | { readonly kind: 'whole'; readonly at: Token }
  | { readonly kind: 'index'; readonly at: Token; readonly index: number; readonly indexAt: Token }
  | {
      readonly kind: 'range';
      readonly at: Token;
      readonly start: number | undefined;
      readonly step: number;
      readonly end: number | undefined;
      readonly indexAt: Token;
    };

/** Flat indices an operand names; `single` when it names one bit without broadcasting. */
export interface ResolvedOperand {
  readonly indices: readonly number[];
  readonly single: boolean;
  readonly at: Token;
}

/** One kind of register (quantum or classical) in declaration order. */
class RegisterSpace {
  readonly registers: Register[] = [];
  readonly byName = new Map<string, Register>();
  size = 0;

  constructor(readonly noun: 'qubit' | 'bit') {}

  declare(name: string, size: number): Register {
    const register = { name, size, offset: this.size };
    this.registers.push(register);
    this.byName.set(name, register);
    this.size += size;
    return register;
  }
}

/** The registers declared so far; resolves operands against them. */
export class RegisterTable {
  private readonly qubits = new RegisterSpace('qubit');
  private readonly bits = new RegisterSpace('bit');
  /** Largest hardware qubit used, -1 when none. */
  private maxHardware = -1;
  private firstHardware: Token | undefined;

  /** Declares a quantum register; hardware qubits and declared qubits do not mix. */
  declareQubits(at: Token, size: number): void {
    if (this.firstHardware !== undefined) {
      throw new QasmError(
        at,
        `cannot declare qubit register '${at.text}': the program already uses hardware qubits (${this.firstHardware.text} at line ${this.firstHardware.line}); use either declared qubits or $n qubits, not both`,
      );
    }
    this.qubits.declare(at.text, size);
  }

  /** Declares a classical register. */
  declareBits(at: Token, size: number): void {
    this.bits.declare(at.text, size);
  }

  /** Whether `name` is a quantum register. */
  isQubitRegister(name: string): boolean {
    return this.qubits.byName.has(name);
  }

  /** Whether `name` is a classical register. */
  isBitRegister(name: string): boolean {
    return this.bits.byName.has(name);
  }

  /** Resolves a quantum operand to flat qubit indices. */
  resolveQubits(operand: Operand): ResolvedOperand {
    if (operand.kind === 'hardware') {
      if (this.qubits.registers.length > 0) {
        throw new QasmError(
          operand.at,
          `hardware qubit ${operand.at.text} cannot be used in a program that declares qubit registers (${this.qubits.registers.map((r) => r.name).join(', ')}); use either declared qubits or $n qubits, not both`,
        );
      }
      this.firstHardware ??= operand.at;
      this.maxHardware = Math.max(this.maxHardware, operand.index);
      return { indices: [operand.index], single: true, at: operand.at };
    }
    return this.resolve(this.qubits, operand);
  }

  /** Resolves a classical operand to flat bit indices. */
  resolveBits(operand: Operand): ResolvedOperand {
    if (operand.kind === 'hardware') {
      throw new QasmError(operand.at, `${operand.at.text} is a qubit; a classical bit register is needed here`);
    }
    return this.resolve(this.bits, operand);
  }

  /** All qubits known so far (for `barrier;` with no operands). */
  allQubits(): number[] {
    const count = this.maxHardware >= 0 ? this.maxHardware + 1 : this.qubits.size;
    return Array.from({ length: count }, (_, i) => i);
  }

  /** How a flat qubit index is written in the source (`q[1]`, `$4`), for messages. */
  describeQubit(flat: number): string {
    if (this.maxHardware >= 0) return `$${flat}`;
    const register = this.qubits.registers.find((r) => flat >= r.offset && flat < r.offset + r.size);
    return register === undefined ? `qubit ${flat}` : `${register.name}[${flat - register.offset}]`;
  }

  /** The registers of the finished circuit. */
  finish(): { numQubits: number; numClbits: number; qregs: Register[]; cregs: Register[] } {
    const qregs =
      this.maxHardware >= 0
        ? [{ name: HARDWARE_REGISTER, size: this.maxHardware + 1, offset: 0 }]
        : this.qubits.registers;
    const numQubits = this.maxHardware >= 0 ? this.maxHardware + 1 : this.qubits.size;
    return { numQubits, numClbits: this.bits.size, qregs, cregs: this.bits.registers };
  }

  private resolve(space: RegisterSpace, operand: Exclude<Operand, { kind: 'hardware' }>): ResolvedOperand {
    const register = space.byName.get(operand.at.text);
    if (register === undefined) {
      const other = space === this.qubits ? this.bits : this.qubits;
      const hint = other.byName.has(operand.at.text)
        ? `'${operand.at.text}' is a ${other.noun} register, but a ${space.noun} is needed here`
        : `declared ${space.noun} registers: ${space.registers.map((r) => r.name).join(', ') || 'none'}; declare it first`;
      throw new QasmError(operand.at, `undeclared ${space.noun} register '${operand.at.text}': ${hint}`);
    }
    switch (operand.kind) {
      case 'whole':
        return {
          indices: Array.from({ length: register.size }, (_, i) => register.offset + i),
          single: false,
          at: operand.at,
        };
      case 'index':
        return {
          indices: [register.offset + this.checkIndex(register, space, operand.index, operand.indexAt)],
          single: true,
          at: operand.at,
        };
      case 'range': {
        if (operand.step === 0) throw new QasmError(operand.indexAt, 'range step must not be zero');
        const start = this.checkIndex(
          register,
          space,
          operand.start ?? (operand.step > 0 ? 0 : register.size - 1),
          operand.indexAt,
        );
        const end = this.checkIndex(
          register,
          space,
          operand.end ?? (operand.step > 0 ? register.size - 1 : 0),
          operand.indexAt,
        );
        const indices: number[] = [];
        for (let i = start; operand.step > 0 ? i <= end : i >= end; i += operand.step)
          indices.push(register.offset + i);
        if (indices.length === 0)
          throw new QasmError(operand.indexAt, `range selects no ${space.noun}s of '${register.name}'`);
        return { indices, single: false, at: operand.at };
      }
    }
  }

  private checkIndex(register: Register, space: RegisterSpace, index: number, at: Token): number {
    const resolved = index < 0 ? register.size + index : index;
    if (!Number.isInteger(index) || resolved < 0 || resolved >= register.size) {
      throw new QasmError(
        at,
        `${space.noun} index ${index} is out of range for register '${register.name}' of size ${register.size} (valid: 0..${register.size - 1})`,
      );
    }
    return resolved;
  }
}
