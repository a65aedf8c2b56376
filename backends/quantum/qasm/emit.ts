/**
 * Writes a Circuit as OpenQASM 3 that IBM Quantum and Amazon Braket accept: stdgates.inc
 * gates, plus `gate` definitions (built from stdgates.inc) for IR gates the library lacks.
 * Numbers are written in JavaScript's shortest round-trip form, so no precision is lost and
 * parseQasm(toQasm3(c)) gives back c.
 */
import type { Circuit, GateName, Operation, Register } from '../circuit.ts';
import { HARDWARE_REGISTER } from './registers.ts';
import { QasmEmitError } from './qasm-error.ts';

/** Options of toQasm3. */
export interface QasmEmitOptions {
  /**
   * Address qubits as hardware qubits `$0`, `$1`, ... and declare only bit registers (for a
   * circuit already laid out on a device). Implied when the circuit's only quantum register is
   * `$`, the name parseQasm gives hardware qubits.
   */
  readonly physicalQubits?: boolean;
  /**
   * Free parameters: operation index → the name of an `input float[64]` that stands for the
   * operation's one angle (the number in the circuit is then not written). Each name is declared
   * once, in name order; names must be identifiers that clash with nothing in the program.
   */
  readonly symbolicAngles?: ReadonlyMap<number, string>;
}

/**
 * Definitions for IR gates that stdgates.inc lacks, in terms of stdgates.inc gates (Qiskit's
 * decompositions; equal to the IR gate up to a global phase). parseQasm keeps the IR gate when
 * it meets these definitions, so the round trip is exact. Argument names start with `_` so they
 * cannot clash with register names.
 */
const EXTRA_DEFINITIONS: Partial<Record<GateName, string>> = {
  rxx: 'gate rxx(_theta) _a, _b { h _a; h _b; cx _a, _b; rz(_theta) _b; cx _a, _b; h _a; h _b; }',
  ryy: 'gate ryy(_theta) _a, _b { rx(pi/2) _a; rx(pi/2) _b; cx _a, _b; rz(_theta) _b; cx _a, _b; rx(-pi/2) _a; rx(-pi/2) _b; }',
  rzz: 'gate rzz(_theta) _a, _b { cx _a, _b; rz(_theta) _b; cx _a, _b; }',
  ecr: 'gate ecr _a, _b { h _b; cx _a, _b; rz(pi/4) _b; cx _a, _b; h _b; x _a; h _b; cx _a, _b; rz(-pi/4) _b; cx _a, _b; h _b; }',
  sxdg: 'gate sxdg _a { s _a; h _a; s _a; }',
};

/** How IR gates are spelled in the output: `u` is the OpenQASM 3 built-in `U` (stdgates.inc has no `u`). */
const SPELLING: Partial<Record<GateName, string>> = { u: 'U' };

const RESERVED = new Set([
  'OPENQASM',
  'include',
  'qubit',
  'bit',
  'qreg',
  'creg',
  'gate',
  'opaque',
  'measure',
  'reset',
  'barrier',
  'input',
  'output',
  'const',
  'float',
  'angle',
  'int',
  'uint',
  'bool',
  'complex',
  'duration',
  'stretch',
  'array',
  'if',
  'else',
  'for',
  'in',
  'while',
  'def',
  'return',
  'break',
  'continue',
  'box',
  'delay',
  'let',
  'extern',
  'defcal',
  'cal',
  'ctrl',
  'negctrl',
  'inv',
  'pow',
  'gphase',
  'U',
  'CX',
  'pi',
  'tau',
  'euler',
  'true',
  'false',
  'switch',
  'case',
  'default',
  'end',
  'durationof',
  'sin',
  'cos',
  'tan',
  'exp',
  'ln',
  'sqrt',
  'arcsin',
  'arccos',
  'arctan',
  'mod',
  'popcount',
  'rotl',
  'rotr',
  'real',
  'imag',
  'sizeof',
  'p',
  'x',
  'y',
  'z',
  'h',
  's',
  'sdg',
  't',
  'tdg',
  'sx',
  'sxdg',
  'rx',
  'ry',
  'rz',
  'cx',
  'cy',
  'cz',
  'cp',
  'crx',
  'cry',
  'crz',
  'ch',
  'swap',
  'ccx',
  'cswap',
  'cu',
  'phase',
  'cphase',
  'id',
  'u1',
  'u2',
  'u3',
  'u',
  'rxx',
  'ryy',
  'rzz',
  'ecr',
]);
const IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/** Writes `circuit` as an OpenQASM 3 program. Throws QasmEmitError for a non-finite parameter or an out-of-range index. */
export function toQasm3(circuit: Circuit, options: QasmEmitOptions = {}): string {
  const physical =
    options.physicalQubits === true || (circuit.qregs.length === 1 && circuit.qregs[0]!.name === HARDWARE_REGISTER);
  const taken = new Set<string>();
  const bits = layout(circuit.cregs, circuit.numClbits, 'c', taken);
  const qubits = physical ? undefined : layout(circuit.qregs, circuit.numQubits, 'q', taken);

  const qubitName = (q: number, index: number): string => {
    if (!Number.isInteger(q) || q < 0 || q >= circuit.numQubits) {
      throw new QasmEmitError(
        index,
        `operation ${index} uses qubit ${q}, but the circuit has ${circuit.numQubits} qubits`,
      );
    }
    return qubits === undefined ? `$${q}` : qubits.name(q);
  };
  const bitName = (c: number, index: number): string => {
    if (!Number.isInteger(c) || c < 0 || c >= circuit.numClbits) {
      throw new QasmEmitError(
        index,
        `operation ${index} writes bit ${c}, but the circuit has ${circuit.numClbits} bits`,
      );
    }
    return bits.name(c);
  };

  const body: string[] = [];
  const definitions = new Set<string>();
  const symbolic = options.symbolicAngles ?? new Map<number, string>();
  circuit.ops.forEach((op, index) => {
    body.push(formatOperation(op, index, qubitName, bitName, definitions, symbolic.get(index)));
  });
  const inputs = [...new Set(symbolic.values())].sort();
  for (const name of inputs)
    if (!IDENTIFIER.test(name) || RESERVED.has(name) || taken.has(name))
      throw new QasmEmitError(-1, `input name ${JSON.stringify(name)} is not a free identifier`);

  const lines = [
    'OPENQASM 3.0;',
    'include "stdgates.inc";',
    ...definitions,
    ...inputs.map((name) => `input float[64] ${name};`),
  ];
  if (qubits !== undefined) lines.push(...qubits.declarations.map((r) => `qubit[${r.size}] ${r.name};`));
  lines.push(...bits.declarations.map((r) => `bit[${r.size}] ${r.name};`), ...body);
  return `${lines.join('\n')}\n`;
}

function formatOperation(
  op: Operation,
  index: number,
  qubitName: (q: number, i: number) => string,
  bitName: (c: number, i: number) => string,
  definitions: Set<string>,
  symbol?: string,
): string {
  switch (op.kind) {
    case 'measure':
      return `${bitName(op.clbit, index)} = measure ${qubitName(op.qubit, index)};`;
    case 'reset':
      return `reset ${qubitName(op.qubit, index)};`;
    case 'barrier':
      return op.qubits.length === 0 ? 'barrier;' : `barrier ${op.qubits.map((q) => qubitName(q, index)).join(', ')};`;
    case 'gate': {
      const definition = EXTRA_DEFINITIONS[op.name];
      if (definition !== undefined) definitions.add(definition);
      if (symbol !== undefined && op.params.length !== 1)
        throw new QasmEmitError(
          index,
          `operation ${index} (${op.name}) has ${op.params.length} angles; only a one-angle gate can take an input`,
        );
      const params =
        symbol !== undefined
          ? `(${symbol})`
          : op.params.length === 0
            ? ''
            : `(${op.params.map((v) => formatNumber(v, index)).join(', ')})`;
      return `${SPELLING[op.name] ?? op.name}${params} ${op.qubits.map((q) => qubitName(q, index)).join(', ')};`;
    }
  }
}

/** The shortest decimal that reads back as exactly `value` (at most 17 significant digits); keeps -0. */
export function formatNumber(value: number, opIndex = -1): string {
  if (!Number.isFinite(value)) {
    throw new QasmEmitError(
      opIndex,
      `operation ${opIndex} has parameter ${value}; OpenQASM parameters must be finite numbers`,
    );
  }
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Register declarations and index-to-name mapping for one kind of register. */
interface Layout {
  readonly declarations: readonly Register[];
  name(flat: number): string;
}

/**
 * Uses the circuit's registers when they are valid, distinct identifiers that tile 0..size-1
 * in order; otherwise one register (`fallback`) holding everything.
 */
function layout(registers: readonly Register[], size: number, fallback: string, taken: Set<string>): Layout {
  let offset = 0;
  const usable =
    registers.every((r) => {
      const ok =
        r.offset === offset && r.size > 0 && IDENTIFIER.test(r.name) && !RESERVED.has(r.name) && !taken.has(r.name);
      offset += r.size;
      taken.add(r.name);
      return ok;
    }) && offset === size;
  if (usable) {
    const owner: number[] = [];
    registers.forEach((r, i) => {
      for (let k = 0; k < r.size; k++) owner.push(i);
    });
    return {
      declarations: registers,
      name: (flat) => {
        const r = registers[owner[flat]!]!;
        return `${r.name}[${flat - r.offset}]`;
      },
    };
  }
  for (const r of registers) taken.delete(r.name);
  let name = fallback;
  for (let n = 1; taken.has(name); n++) name = `${fallback}${n}`;
  taken.add(name);
  return {
    declarations: size > 0 ? [{ name, size, offset: 0 }] : [],
    name: (flat) => `${name}[${flat}]`,
  };
}
