/** Durations people type: `90` or `90s`, `30m`, `8h`, `2d`, and sums such as `1h30m`. */

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Seconds in `value`: a number of seconds, or a string of parts `<number><s|m|h|d>` (a bare
 * number is seconds). `what` names the setting in the error.
 *
 * @throws TypeError naming `what` for anything else, a negative or an infinite duration.
 */
export function parseDuration(value: unknown, what: string): number {
  const bad = () =>
    new TypeError(`${what} must be a duration such as 90s, 30m, 8h, 2d or 1h30m (got ${JSON.stringify(value)})`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw bad();
    return value;
  }
  if (typeof value !== 'string') throw bad();
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.replace(/\s+/g, '')) throw bad();
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
}

/** `seconds` the way parseDuration reads it back, in the largest whole units: `8h`, `1h30m`, `45s`. */
export function formatDuration(seconds: number): string {
  let left = Math.round(seconds);
  if (left === 0) return '0s';
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS).reverse()) {
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out;
}
