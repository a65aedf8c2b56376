/**
 * Validation of `placementGroup(bundles, options)` at the boundary (the API on the caller's
 * side, and the head again for requests that arrive over the wire): every error names the
 * field, what was given and what is allowed.
 */
import { PLACEMENT_STRATEGIES, type PlacementStrategyName } from './scheduling-strategy.ts';
import { checkNameKeys, checkOptionalName } from './names.ts';

/** Options of `placementGroup()`. */
export interface PlacementGroupOptions {
  /** How bundles spread over nodes (default `'PACK'`). */
  strategy?: PlacementStrategyName;
  /** Shown by the State API and the dashboard. */
  name?: string;
  /** `'detached'`: the group outlives the driver that created it. */
  lifetime?: 'detached';
  /** Reserve bundles only on nodes of this backend (a `command({ nodes })` gang uses its command's backend). */
  backend?: string;
}

/** Validated bundles and options. */
export interface NormalizedPlacementGroup {
  readonly bundles: readonly Readonly<Record<string, number>>[];
  readonly strategy: PlacementStrategyName;
  readonly name: string | undefined;
  readonly detached: boolean;
  /** Only nodes of this backend hold bundles (undefined: any backend). */
  readonly backend: string | undefined;
}

const OPTION_KEYS = new Set(['strategy', 'name', 'lifetime', 'backend']);
/** Resources are fixed-point with 1e-4 steps (core/resources.ts); finer amounts would round silently. */
const STEP = 1e-4;

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Validates bundles and options; throws a TypeError naming the field. */
export function normalizePlacementGroup(
  bundles: unknown,
  opts: unknown,
  where = 'placementGroup()',
): NormalizedPlacementGroup {
  if (!Array.isArray(bundles) || bundles.length === 0) {
    throw new TypeError(
      `${where}: bundles must be a non-empty array of resource maps such as [{ CPU: 1 }, { CPU: 2, GPU: 1 }] (got ${show(bundles)})`,
    );
  }
  const out = bundles.map((b: unknown, i) => {
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      throw new TypeError(`${where}: bundles[${i}] must be a resource map such as { CPU: 1 } (got ${show(b)})`);
    }
    checkNameKeys(`${where}: bundles[${i}]`, b);
    const amounts: Record<string, number> = {};
    for (const [k, v] of Object.entries(b)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new TypeError(`${where}: bundles[${i}].${k} must be a finite number >= 0 (got ${show(v)})`);
      }
      if (Math.abs(Math.round(v / STEP) * STEP - v) > 1e-9)
        throw new TypeError(`${where}: bundles[${i}].${k} must be a multiple of ${STEP} (got ${v})`);
      if (v > 0) amounts[k] = v;
    }
    if (Object.keys(amounts).length === 0) {
      throw new TypeError(
        `${where}: bundles[${i}] has no resources; give each bundle at least one amount > 0, e.g. { CPU: 1 }`,
      );
    }
    return amounts;
  });
  if (opts === undefined)
    return { bundles: out, strategy: 'PACK', name: undefined, detached: false, backend: undefined };
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError(`${where}: options must be an object { strategy?, name?, lifetime?, backend? }`);
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.has(k))
      throw new TypeError(`${where}: unknown option ${k}; allowed options are ${[...OPTION_KEYS].join(', ')}`);
  }
  const o = opts as PlacementGroupOptions;
  const strategy = o.strategy ?? 'PACK';
  if (!PLACEMENT_STRATEGIES.includes(strategy)) {
    throw new TypeError(
      `${where}: option strategy must be one of ${PLACEMENT_STRATEGIES.map((s) => `'${s}'`).join(', ')} (got ${show(o.strategy)})`,
    );
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === ''))
    throw new TypeError(`${where}: option name must be a non-empty string (got ${show(o.name)})`);
  checkOptionalName(`${where}: option name`, o.name);
  if (o.lifetime !== undefined && o.lifetime !== 'detached')
    throw new TypeError(`${where}: option lifetime must be 'detached' or undefined (got ${show(o.lifetime)})`);
  if (o.backend !== undefined && (typeof o.backend !== 'string' || o.backend === ''))
    throw new TypeError(`${where}: option backend must be the name of a backend (got ${show(o.backend)})`);
  checkOptionalName(`${where}: option backend`, o.backend);
  return { bundles: out, strategy, name: o.name, detached: o.lifetime === 'detached', backend: o.backend };
}
