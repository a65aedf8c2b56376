/**
 * How N sessions were set up, side by side: each session's config, its backends' configs and its
 * placement rules flattened to `key -> value` leaves (`slurm.partition`, `#2.require.backend`),
 * then one row per key with every session's value, whether it differs from the first session's,
 * and for numbers by how much. Keys come from user configs, so they are kept in Maps only.
 */
import type { CompareSection, CompareValueRow } from '../protocol/state-rows.ts';

/** The leaves of one section of one session. */
export type Leaves = Map<string, unknown>;

/** Flattens `value` into `out`: objects as `a.b`, arrays as `a[0]`; empty objects and arrays are leaves. */
export function flatten(value: unknown, prefix: string, out: Leaves = new Map()): Leaves {
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((v, i) => {
      flatten(v, `${prefix}[${i}]`, out);
    });
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix !== '') out.set(prefix, value);
  else if (value !== null && typeof value !== 'object') out.set('(value)', value);
  return out;
}

/** The three setting sections of a session's recorded config and rules. */
export function settingLeaves(config: unknown, placementRules: unknown): Map<CompareSection, Leaves> {
  const cfg = typeof config === 'object' && config !== null && !Array.isArray(config) ? config : {};
  const { backends, ...rest } = cfg as { backends?: unknown };
  const byBackend: Leaves = new Map();
  if (Array.isArray(backends)) {
    backends.forEach((b, i) => {
      const name = typeof b?.name === 'string' && b.name !== '' ? b.name : `#${i + 1}`;
      const { name: _name, ...fields } = (typeof b === 'object' && b !== null ? b : { value: b }) as { name?: unknown };
      flatten(Object.keys(fields).length ? fields : { kind: null }, name, byBackend);
    });
  }
  const rules: Leaves = new Map();
  if (Array.isArray(placementRules))
    placementRules.forEach((r, i) => {
      flatten(r, `#${i + 1}`, rules);
    });
  return new Map<CompareSection, Leaves>([
    ['config', flatten(rest, '')],
    ['backends', byBackend],
    ['rules', rules],
  ]);
}

const text = (v: unknown): string | null =>
  v === undefined ? null : typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));

/** One row per key of `section` over the sessions' leaves, keys sorted (numbers inside keys in numeric order). */
export function valueRows(section: CompareSection, sides: readonly Leaves[]): CompareValueRow[] {
  const keys = [...new Set(sides.flatMap((s) => [...s.keys()]))].sort((x, y) =>
    x.localeCompare(y, 'en', { numeric: true }),
  );
  return keys.map((key) => {
    const raw = sides.map((s) => (s.has(key) ? s.get(key) : undefined));
    const values = raw.map(text);
    const base = raw[0];
    return {
      section,
      key,
      values,
      deltas: raw.map((v) => (typeof v === 'number' && typeof base === 'number' ? v - base : null)),
      differs: values.some((v) => v !== values[0]),
    };
  });
}
