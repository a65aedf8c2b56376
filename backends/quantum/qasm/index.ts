/**
 * The OpenQASM front end of the quantum backends: parseQasm reads OpenQASM 2 or 3 into the
 * circuit IR, qasmInputs lists a program's parameters, toQasm3 writes a circuit for services.
 *
 * Hardware qubits: a program that addresses `$0`, `$1`, ... (and declares no qubit registers)
 * gets one quantum register named `$` of size (largest index used + 1).
 */
import type { Circuit } from '../circuit.ts';
import { parseProgram } from './parser.ts';

export { QasmError, QasmEmitError, type SourcePosition } from './qasm-error.ts';
export { toQasm3, type QasmEmitOptions } from './emit.ts';
export { HARDWARE_REGISTER } from './registers.ts';

/**
 * Parses OpenQASM 2 (`OPENQASM 2.0;`) or 3 (`OPENQASM 3;`, or no header) source into a bound
 * Circuit. `params` gives a value to every `input` of the program; a missing input or an
 * unknown parameter is an error. Throws QasmError, with the 1-based line and column of the
 * offending token, for anything invalid or unsupported.
 */
export function parseQasm(source: string, params: Readonly<Record<string, number>> = {}): Circuit {
  return parseProgram(source, { kind: 'bind', params }).circuit;
}

/** Names of the program's `input` parameters in declaration order. Throws QasmError for invalid source. */
export function qasmInputs(source: string): string[] {
  return [...parseProgram(source, { kind: 'collect' }).inputs];
}
