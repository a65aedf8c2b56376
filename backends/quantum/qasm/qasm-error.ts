/**
 * Errors of the OpenQASM front end: one class for a program that cannot be read (with the place
 * of the offending token), one for a circuit that cannot be written out.
 */
import { OrreryError } from '../../../orchestrator/core/errors.ts';

/** A 1-based place in QASM source. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * The OpenQASM source is invalid or uses something Orrery does not run. `line` and `column`
 * (1-based) point at the offending token; the message says what is wrong and what to do.
 */
export class QasmError extends OrreryError {
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 1-based column of the offending token (UTF-16 units). */
  readonly column: number;
  /** The message without its `line L, column C: ` prefix. */
  readonly detail: string;

  constructor(position: SourcePosition, detail: string) {
    super(`line ${position.line}, column ${position.column}: ${detail}`);
    this.line = position.line;
    this.column = position.column;
    this.detail = detail;
  }
}

/** A circuit cannot be written as OpenQASM (e.g. a parameter is NaN or infinite). */
export class QasmEmitError extends Error {
  override readonly name = 'QasmEmitError';
  /** Index of the offending operation in `circuit.ops`, or -1 when the circuit as a whole is at fault. */
  readonly opIndex: number;

  constructor(opIndex: number, message: string) {
    super(message);
    this.opIndex = opIndex;
  }
}
