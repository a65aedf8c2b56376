/**
 * Decoding stored result bytes and comparing results numerically, so two runs of a simulation
 * whose floating-point sums differ in the last bits still count as the same result.
 */
import { deserialize } from 'node:v8';

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

/** Decodes result bytes by content type; undefined when the type has no structure to compare. */
export function decodeResult(contentType: string, bytes: Uint8Array): unknown {
  try {
    if (contentType === 'json') return JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (contentType === 'v8') return deserialize(bytes);
    if (contentType === 'text') return Buffer.from(bytes).toString('utf8');
    if (contentType in TYPED) {
      const Ctor = TYPED[contentType as keyof typeof TYPED];
      if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) return undefined;
      const copy = bytes.slice();
      return new Ctor(copy.buffer, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Numeric tolerance: numbers match when |a-b| ≤ absTol + relTol·max(|a|,|b|). */
export interface Tolerance {
  readonly relTol: number;
  readonly absTol: number;
}

/** Outcome of a value comparison: the first differing path, and the largest numeric difference seen. */
export interface ValueDiff {
  readonly equal: boolean;
  readonly path: string | null;
  readonly maxAbsDiff: number;
  /** Largest |a−b| / max(|a|,|b|) seen. */
  readonly maxRelDiff: number;
}

/** Compares two decoded values structurally, numbers within tolerance. */
export function compareValues(a: unknown, b: unknown, tol: Tolerance): ValueDiff {
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  const walk = (x: unknown, y: unknown, path: string): string | null => {
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(x) && Number.isNaN(y)) return null;
      if (x === y) return null;
      const d = Math.abs(x - y);
      if (Number.isFinite(d)) {
        maxAbsDiff = Math.max(maxAbsDiff, d);
        maxRelDiff = Math.max(maxRelDiff, d / Math.max(Math.abs(x), Math.abs(y)));
      }
      return d <= tol.absTol + tol.relTol * Math.max(Math.abs(x), Math.abs(y)) ? null : path || '(value)';
    }
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null)
      return Object.is(x, y) ? null : path || '(value)';
    if (x instanceof Date && y instanceof Date) return walk(x.getTime(), y.getTime(), path);
    const xs = listLike(x);
    const ys = listLike(y);
    if (xs || ys) {
      if (!xs || !ys || xs.length !== ys.length) return `${path || '(value)'} (length)`;
      for (let i = 0; i < xs.length; i++) {
        const d = walk(xs[i], ys[i], `${path}[${i}]`);
        if (d) return d;
      }
      return null;
    }
    const kx = Object.keys(x).sort();
    const ky = Object.keys(y).sort();
    if (kx.join('\0') !== ky.join('\0')) return `${path || '(value)'} (keys)`;
    for (const k of kx) {
      const d = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  };
  const path = walk(a, b, '');
  return { equal: path === null, path, maxAbsDiff, maxRelDiff };
}

/** Arrays, typed arrays, Maps (as entry pairs) and Sets as plain lists; undefined for other objects. */
function listLike(v: object): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>);
  if (v instanceof Map) return [...v.entries()];
  if (v instanceof Set) return [...v];
  return undefined;
}

/** True when two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.byteLength === b.byteLength &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}
