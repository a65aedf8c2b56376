/**
 * The size of a difference between two decoded results, for the comparison view: previews of
 * both values, the differing top-level fields, absolute and relative numeric differences, and for
 * measurement counts (a circuit's `{ bitstring: count }`) the changed outcomes and a chi-square
 * test of whether both histograms could come from one distribution (sampling noise).
 */
import type { CountsDiff, ResultDiff } from '../protocol/state-rows.ts';
import { compareValues, type Tolerance } from './result-values.ts';

/** Longest result preview sent per side. */
export const RESULT_PREVIEW_CHARS = 160;
/** A counts difference with a chi-square p-value at least this large reads as sampling noise. */
export const NOISE_P_VALUE = 0.01;

const OUTCOME = /^(?:[01]+(?: [01]+)*|0x[0-9a-f]+)$/i;

/** A short JSON-like preview of a decoded value (typed arrays, Maps and bigints readable). */
export function previewValue(v: unknown, max = RESULT_PREVIEW_CHARS): string {
  let text: string;
  try {
    text =
      typeof v === 'string'
        ? JSON.stringify(v)
        : (JSON.stringify(v, (_k, x: unknown) => {
            if (typeof x === 'bigint') return `${x}n`;
            if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return Array.from(x as unknown as ArrayLike<number>);
            if (x instanceof Map) return Object.fromEntries([...x].map(([k, y]) => [String(k), y]));
            if (x instanceof Set) return [...x];
            return x;
          }) ?? String(v));
  } catch {
    text = String(v);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A measurement histogram: a plain object of outcome keys (bitstrings, hex) to non-negative integer counts. */
function histogram(v: unknown): Map<string, number> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return;
  const out = new Map<string, number>();
  for (const [k, n] of Object.entries(v)) {
    if (!OUTCOME.test(k) || typeof n !== 'number' || !Number.isInteger(n) || n < 0) return;
    out.set(k, n);
  }
  return out.size ? out : undefined;
}

/** The counts in a result: the value itself, or its `counts` member (a circuit result). */
function findCounts(v: unknown): [string, Map<string, number>] | undefined {
  const own = histogram(v);
  if (own) return ['(value)', own];
  if (typeof v === 'object' && v !== null && 'counts' in v) {
    const c = histogram((v as { counts: unknown }).counts);
    if (c) return ['counts', c];
  }
  return undefined;
}

/**
 * The result part of a circuit result (`{ counts, shots, device, backend, durationMs, jobId? }`):
 * its counts and shots. The rest are facts of the run (how long it took, the job id, where it
 * ran), which differ between any two runs and are compared elsewhere (timings, backends).
 * Undefined for any other value.
 */
export function circuitOutcome(v: unknown): { counts: unknown; shots: unknown } | undefined {
  if (typeof v !== 'object' || v === null || !('counts' in v) || !('shots' in v) || !('durationMs' in v)) return;
  const r = v as { counts: unknown; shots: unknown };
  return histogram(r.counts) && typeof r.shots === 'number' ? { counts: r.counts, shots: r.shots } : undefined;
}

/** Compares two histograms: changed outcomes, total variation distance, chi-square p-value. */
export function compareCounts(path: string, a: Map<string, number>, b: Map<string, number>): CountsDiff {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  const shotsA = [...a.values()].reduce((s, n) => s + n, 0);
  const shotsB = [...b.values()].reduce((s, n) => s + n, 0);
  const changed = keys
    .map((key) => ({ key, a: a.get(key) ?? 0, b: b.get(key) ?? 0 }))
    .filter((c) => c.a !== c.b)
    .sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a) || (x.key < y.key ? -1 : 1));
  let tvd = 0;
  if (shotsA > 0 && shotsB > 0)
    for (const k of keys) tvd += Math.abs((a.get(k) ?? 0) / shotsA - (b.get(k) ?? 0) / shotsB) / 2;
  const pValue = chiSquareHomogeneity(keys, a, b, shotsA, shotsB);
  return {
    path,
    shotsA,
    shotsB,
    changed: changed.slice(0, 8),
    changedKeys: changed.length,
    onlyInA: keys.filter((k) => (a.get(k) ?? 0) > 0 && (b.get(k) ?? 0) === 0).length,
    onlyInB: keys.filter((k) => (b.get(k) ?? 0) > 0 && (a.get(k) ?? 0) === 0).length,
    tvd,
    pValue,
    withinSamplingNoise: pValue !== null && pValue >= NOISE_P_VALUE,
  };
}

/** p-value of Pearson's chi-square test on the 2×K table of counts; null when a side has no shots. */
function chiSquareHomogeneity(
  keys: string[],
  a: Map<string, number>,
  b: Map<string, number>,
  na: number,
  nb: number,
): number | null {
  if (na === 0 || nb === 0) return null;
  const n = na + nb;
  let x2 = 0;
  let df = -1;
  for (const k of keys) {
    const ak = a.get(k) ?? 0;
    const bk = b.get(k) ?? 0;
    const ck = ak + bk;
    if (ck === 0) continue;
    df++;
    const ea = (na * ck) / n;
    const eb = (nb * ck) / n;
    x2 += (ak - ea) ** 2 / ea + (bk - eb) ** 2 / eb;
  }
  if (df < 1 || x2 === 0) return 1;
  return chiSquareSurvival(x2, df);
}

/** P(X ≥ x) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** Regularized upper incomplete gamma Q(a, x) (series below a+1, continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < 1000 && Math.abs(del) > Math.abs(sum) * 1e-15; i++) sum += del *= x / ++ap;
    return Math.max(0, 1 - sum * front);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.min(1, front * h);
}

const LANCZOS = [
  76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2,
  -0.5395239384953e-5,
];

function logGamma(z: number): number {
  let y = z;
  const t = z + 5.5 - (z + 0.5) * Math.log(z + 5.5);
  let ser = 1.000000000190015;
  for (const c of LANCZOS) ser += c / ++y;
  return -t + Math.log((2.5066282746310007 * ser) / z);
}

/** Top-level fields of two object results whose values differ (numbers within tolerance count as equal). */
function differingFields(a: unknown, b: unknown, tol: Tolerance): string[] {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [];
  if (Array.isArray(a) || Array.isArray(b) || ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return [];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  return keys
    .filter((k) => !Object.hasOwn(ra, k) || !Object.hasOwn(rb, k) || !compareValues(ra[k], rb[k], tol).equal)
    .slice(0, 12);
}

/** The size of the difference between two decoded results. */
export function diffResults(a: unknown, b: unknown, tol: Tolerance): ResultDiff {
  const d = compareValues(a, b, tol);
  const ca = findCounts(a);
  const cb = findCounts(b);
  const counts = ca && cb && ca[0] === cb[0] ? compareCounts(ca[0], ca[1], cb[1]) : undefined;
  return {
    path: d.path,
    maxAbsDiff: d.maxAbsDiff,
    maxRelDiff: d.maxRelDiff,
    fields: differingFields(a, b, tol),
    ...(counts ? { counts } : {}),
  };
}
