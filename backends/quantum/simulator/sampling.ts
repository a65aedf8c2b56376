/**
 * Random numbers and shot sampling. The generator is xoshiro128** seeded through splitmix32, so
 * the same seed gives the same counts on every platform (Math.random cannot be seeded).
 */
import { randomBytes } from 'node:crypto';
import type { StateVector } from './statevector.ts';

/** A seeded source of uniform numbers in [0, 1). */
export interface Random {
  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number;
}

/** splitmix32: spreads a seed's bits so that nearby seeds give unrelated xoshiro states. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** (Blackman & Vigna) seeded with `seed` (any safe integer), or with fresh random
 * bits when `seed` is undefined.
 */
export function createRandom(seed?: number): Random {
  const s = new Uint32Array(4);
  if (seed === undefined) {
    const bytes = randomBytes(16);
    for (let i = 0; i < 4; i++) s[i] = bytes.readUInt32LE(i * 4);
  } else {
    const lo = { s: seed >>> 0 };
    const hi = { s: Math.floor(seed / 2 ** 32) >>> 0 };
    s[0] = splitmix32(lo);
    s[1] = splitmix32(hi);
    s[2] = splitmix32(lo);
    s[3] = splitmix32(hi);
  }
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  const next32 = (): number => {
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  };
  return { next: () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992 };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Draws `shots` basis states from the state's probabilities and returns how often each came up.
 * The uniforms are sorted and matched against one running sum over the amplitudes, which needs
 * no 2^n cumulative table (8 GiB at 30 qubits) and costs O(2^n + shots·log shots).
 */
export function sampleBasisStates(state: StateVector, shots: number, random: Random): Map<number, number> {
  const { re, im } = state;
  const dim = re.length;
  let total = 0;
  let last = 0;
  for (let i = 0; i < dim; i++) {
    const p = re[i]! * re[i]! + im[i]! * im[i]!;
    total += p;
    if (p > 0) last = i;
  }
  const u = new Float64Array(shots);
  for (let s = 0; s < shots; s++) u[s] = random.next() * total;
  u.sort();
  const counts = new Map<number, number>();
  let s = 0;
  let running = 0;
  for (let i = 0; i < dim && s < shots; i++) {
    const p = re[i]! * re[i]! + im[i]! * im[i]!;
    if (p === 0) continue;
    running += p;
    let hits = 0;
    while (s < shots && u[s]! < running) {
      hits++;
      s++;
    }
    if (hits > 0) counts.set(i, hits);
  }
  // Rounding can leave the running sum a hair below `total`: those draws belong to the last state.
  if (s < shots) counts.set(last, (counts.get(last) ?? 0) + shots - s);
  return counts;
}
