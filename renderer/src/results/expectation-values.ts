/**
 * Expectation values with their uncertainty: one value (`{ value, std }`, `{ energy, stderr }`,
 * `{ mean, variance }`) as a number ± its error, several (an estimator's `{ evs, stds }`, or a
 * list of `{ value, std }`) as points with error bars. A variance is shown as its square root.
 */
import { h } from '../dom.ts';
import { niceTicks, shortNumber, svg } from './svg.ts';

/** One value and its error (half the bar), with what the error is. */
export interface Estimate {
  readonly label: string;
  readonly value: number;
  readonly error: number;
  readonly kind: 'std' | 'stderr' | 'σ from variance';
}

const VALUE_KEYS = ['value', 'expectation', 'expectationValue', 'ev', 'mean', 'energy'];
const ERROR_KEYS: readonly [string, Estimate['kind']][] = [
  ['stderr', 'stderr'],
  ['stdErr', 'stderr'],
  ['standardError', 'stderr'],
  ['std', 'std'],
  ['stdev', 'std'],
  ['stddev', 'std'],
  ['sigma', 'std'],
  ['error', 'std'],
  ['variance', 'σ from variance'],
];
const SERIES: readonly [string, string, Estimate['kind']][] = [
  ['evs', 'stds', 'std'],
  ['values', 'stds', 'std'],
  ['values', 'errors', 'std'],
  ['expectationValues', 'stds', 'std'],
  ['evs', 'variances', 'σ from variance'],
];

const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The estimate a plain object holds (`{ value, std }` and the other spellings), if it holds one. */
export function estimateOf(v: unknown, label = ''): Estimate | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const valueKey = VALUE_KEYS.find((k) => num(o[k]));
  const err = ERROR_KEYS.find(([k]) => num(o[k]) && (o[k] as number) >= 0);
  if (!valueKey || !err) return undefined;
  const raw = o[err[0]] as number;
  const name = typeof o.name === 'string' ? o.name : typeof o.observable === 'string' ? o.observable : label;
  return {
    label: name || valueKey,
    value: o[valueKey] as number,
    error: err[1] === 'σ from variance' ? Math.sqrt(raw) : raw,
    kind: err[1],
  };
}

/** Every estimate in a result: one, a list of them, or an estimator's parallel arrays. */
export function estimatesOf(v: unknown): Estimate[] | undefined {
  const one = estimateOf(v);
  if (one) return [one];
  if (Array.isArray(v) && v.length > 0 && v.length <= 500) {
    const list = v.map((x, i) => estimateOf(x, String(i)));
    return list.every((e) => e !== undefined) ? (list as Estimate[]) : undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  for (const [vk, ek, kind] of SERIES) {
    const vs = o[vk];
    const es = o[ek];
    if (
      Array.isArray(vs) &&
      Array.isArray(es) &&
      vs.length > 0 &&
      vs.length === es.length &&
      vs.length <= 500 &&
      vs.every(num) &&
      es.every((e) => num(e) && e >= 0)
    ) {
      const labels = Array.isArray(o.observables) ? o.observables.map(String) : undefined;
      return vs.map((value, i) => ({
        label: labels?.[i] ?? String(i),
        value,
        error: kind === 'σ from variance' ? Math.sqrt(es[i] as number) : (es[i] as number),
        kind,
      }));
    }
  }
  return undefined;
}

/** The view: a number ± error for one estimate, points with error bars for several. */
export function estimatesView(list: readonly Estimate[]): HTMLElement {
  const first = list[0]!;
  const headline =
    list.length === 1
      ? h(
          'div',
          { class: 'result-number estimate', title: `${first.value} ± ${first.error} (${first.kind})` },
          shortNumber(first.value, 6),
          h('span', { class: 'pm' }, ` ± ${shortNumber(first.error, 2)}`),
          h('small', { class: 'estimate-kind' }, ` ${first.kind}`),
        )
      : null;
  return h(
    'div',
    { class: 'result-plot estimates', 'data-testid': 'estimates' },
    headline,
    errorBarPlot(list),
    list.length > 1 ? h('div', { class: 'plot-caption' }, `${list.length} values, bars ± ${first.kind}`) : null,
  );
}

const W = 420;
const LEFT = 56;
const RIGHT = 10;

function errorBarPlot(list: readonly Estimate[]): SVGElement {
  const H = list.length === 1 ? 56 : 190;
  const bottom = 26;
  const top = 10;
  const lo = Math.min(...list.map((e) => e.value - e.error));
  const hi = Math.max(...list.map((e) => e.value + e.error));
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
  const ticks = niceTicks(lo - pad, hi + pad, list.length === 1 ? 4 : 5);
  const min = Math.min(lo - pad, ticks[0] ?? lo);
  const max = Math.max(hi + pad, ticks[ticks.length - 1] ?? hi);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'plot error-bars',
    role: 'img',
    'aria-label': `${list.length} expectation value${list.length === 1 ? '' : 's'} with error bars`,
  });
  const plotW = W - LEFT - RIGHT;
  if (list.length === 1) {
    // One value: a horizontal number line with the value's interval.
    const x = (v: number) => LEFT + ((v - min) / (max - min)) * plotW;
    const yl = H - bottom + 4;
    root.append(svg('line', { x1: LEFT, x2: W - RIGHT, y1: yl, y2: yl, class: 'axis-line' }));
    for (const t of ticks)
      root.append(
        svg('line', { x1: x(t), x2: x(t), y1: yl, y2: yl + 3, class: 'axis-line' }),
        svg('text', { x: x(t), y: yl + 13, 'text-anchor': 'middle', class: 'axis tick' }, shortNumber(t)),
      );
    const e = list[0]!;
    root.append(errorBar(x(e.value - e.error), x(e.value + e.error), yl - 16, yl - 16, true, e));
    root.append(svg('circle', { cx: x(e.value), cy: yl - 16, r: 3.5, class: 'estimate-point' }));
    return root;
  }
  const plotH = H - top - bottom;
  const y = (v: number) => top + plotH - ((v - min) / (max - min)) * plotH;
  for (const t of ticks)
    root.append(
      svg('line', { x1: LEFT, x2: W - RIGHT, y1: y(t), y2: y(t), class: 'grid' }),
      svg('text', { x: LEFT - 4, y: y(t) + 3, 'text-anchor': 'end', class: 'axis tick' }, shortNumber(t)),
    );
  root.append(
    svg('line', { x1: LEFT, x2: LEFT, y1: top, y2: top + plotH, class: 'axis-line' }),
    svg('line', { x1: LEFT, x2: W - RIGHT, y1: top + plotH, y2: top + plotH, class: 'axis-line' }),
  );
  const step = plotW / list.length;
  list.forEach((e, i) => {
    const cx = LEFT + step * (i + 0.5);
    root.append(errorBar(y(e.value + e.error), y(e.value - e.error), cx, cx, false, e));
    root.append(svg('circle', { cx, cy: y(e.value), r: 3, class: 'estimate-point' }));
    if (list.length <= 24)
      root.append(svg('text', { x: cx, y: top + plotH + 13, 'text-anchor': 'middle', class: 'axis' }, e.label));
  });
  return root;
}

/** An error bar from a to b (x for a horizontal one, y for a vertical one), with caps. */
function errorBar(a: number, b: number, p: number, q: number, horizontal: boolean, e: Estimate): SVGElement {
  const g = svg('g', { class: 'error-bar', 'data-value': e.value, 'data-error': e.error });
  const cap = 4;
  if (horizontal)
    g.append(
      svg('line', { x1: a, x2: b, y1: p, y2: q }),
      svg('line', { x1: a, x2: a, y1: p - cap, y2: p + cap }),
      svg('line', { x1: b, x2: b, y1: p - cap, y2: p + cap }),
    );
  else
    g.append(
      svg('line', { x1: p, x2: q, y1: a, y2: b }),
      svg('line', { x1: p - cap, x2: p + cap, y1: a, y2: a }),
      svg('line', { x1: p - cap, x2: p + cap, y1: b, y2: b }),
    );
  g.append(svg('title', {}, `${e.label}: ${e.value} ± ${e.error} (${e.kind})`));
  return g;
}
