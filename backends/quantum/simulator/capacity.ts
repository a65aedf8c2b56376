/**
 * How many qubits fit in memory. A state of n qubits holds 2^n complex amplitudes as two
 * Float64Arrays: 16·2^n bytes. The check runs before anything is allocated, so an oversized
 * circuit fails with a clear message instead of an out-of-memory crash in a worker.
 */
import { totalmem } from 'node:os';
import { BackendError } from '../../../orchestrator/core/errors.ts';

/** Bytes per amplitude: a Float64 real part and a Float64 imaginary part. */
export const BYTES_PER_AMPLITUDE = 16;

/** The kernels index amplitudes with 32-bit integer arithmetic, which tops out at 2^30 amplitudes. */
export const HARD_QUBIT_LIMIT = 30;

/** Bytes of state an n-qubit simulation holds. */
export function stateBytes(numQubits: number): number {
  return BYTES_PER_AMPLITUDE * 2 ** numQubits;
}

/** The largest n whose state (16·2^n bytes) fits in `bytes`; 0 when even one amplitude does not fit. */
export function maxQubitsFor(bytes: number): number {
  let n = 0;
  while (stateBytes(n + 1) <= bytes) n++;
  return n;
}

/** The default limit: the largest state that fits in half of this machine's memory, at most 30 qubits. */
export function defaultMaxQubits(): number {
  return Math.min(HARD_QUBIT_LIMIT, maxQubitsFor(totalmem() / 2));
}

/** `256 GiB`, `8 GiB`, `1.5 MiB`: binary units, as memory is sold. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}

/**
 * Throws BackendError (not retryable: the same circuit will not fit next time either) when a
 * circuit of `numQubits` exceeds `maxQubits`, or the default limit when that is not given.
 */
export function checkCapacity(numQubits: number, maxQubits: number | undefined, backend: string): void {
  const limit = maxQubits ?? defaultMaxQubits();
  if (numQubits <= limit) return;
  const where =
    maxQubits === undefined
      ? `this simulator holds at most ${limit} qubits in ${formatBytes(totalmem() / 2)} here (half of this machine's memory)`
      : `this simulator is configured for at most ${limit} qubits (maxQubits, ${formatBytes(stateBytes(limit))} of state)`;
  throw new BackendError(
    backend,
    `circuit needs ${numQubits} qubits (${formatBytes(stateBytes(numQubits))} of state); ${where}; use fewer qubits or a hardware backend`,
    false,
  );
}
