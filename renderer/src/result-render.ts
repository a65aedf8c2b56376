/**
 * Views for common results: a number, an array of numbers (line plot), measurement counts (a
 * histogram with axes, shots and probabilities: results/counts-histogram.ts), expectation values
 * with error bars (results/expectation-values.ts), an image (a `data:image/` URL), an object's
 * fields, else JSON. Every view wraps inside its card: no text runs out of it at any width.
 */
import './results/results.css';
import { h } from './dom.ts';
import { countsView, isCounts } from './results/counts-histogram.ts';
import { estimatesOf, estimatesView } from './results/expectation-values.ts';
import { shortNumber, svg } from './results/svg.ts';

const W = 360;
const H = 160;
/** Fields listed in an object's view (the rest are in the JSON below it). */
const FIELDS_SHOWN = 40;

/** A measurement-count object at the top or one level down (`{ counts: {...}, shots }`), and its shots. */
function findCounts(v: unknown): { counts: Record<string, number>; holder?: Record<string, unknown> } | undefined {
  if (isCounts(v)) return { counts: v };
  if (typeof v === 'object' && v !== null && !Array.isArray(v))
    for (const x of Object.values(v)) if (isCounts(x)) return { counts: x, holder: v as Record<string, unknown> };
  return undefined;
}

/** A line plot of numbers. */
export function linePlot(values: readonly number[], label = 'values'): SVGElement {
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'plot',
    role: 'img',
    'aria-label': `line plot of ${values.length} ${label}`,
  });
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i: number) => 48 + (i / Math.max(1, values.length - 1)) * (W - 58);
  const y = (v: number) => H - 20 - ((v - min) / span) * (H - 30);
  root.append(
    svg('polyline', {
      points: values.map((v, i) => `${x(i)},${y(v)}`).join(' '),
      fill: 'none',
      stroke: '#3b82f6',
      'stroke-width': 1.5,
    }),
  );
  root.append(
    svg('text', { x: 2, y: 14, class: 'axis' }, shortNumber(max)),
    svg('text', { x: 2, y: H - 20, class: 'axis' }, shortNumber(min)),
  );
  root.append(svg('text', { x: W - 40, y: H - 4, class: 'axis' }, `n=${values.length}`));
  return root;
}

const isNumbers = (x: unknown): x is number[] =>
  Array.isArray(x) && x.length > 1 && x.every((n) => typeof n === 'number');

/** A number as a card shows it: in full (it wraps), its full text in the tooltip. */
function numberView(value: number): HTMLElement {
  return h('div', { class: 'result-number', title: String(value) }, String(value));
}

/** Scalar fields of an object as a key/value list; nested values as wrapped JSON. */
function fieldsView(value: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): HTMLElement | null {
  const rows = Object.entries(value)
    .filter(([k]) => !skip.has(k))
    .slice(0, FIELDS_SHOWN)
    .map(([k, v]) =>
      h(
        'div',
        { class: 'field' },
        h('span', { class: 'k', title: k }, k),
        typeof v === 'object' && v !== null
          ? h('code', { class: 'v nested', title: clip(JSON.stringify(v), 4000) }, clip(JSON.stringify(v), 300))
          : h('span', { class: 'v', title: String(v) }, typeof v === 'number' ? shortNumber(v, 8) : clip(String(v))),
      ),
    );
  return rows.length ? h('div', { class: 'result-fields', 'data-testid': 'result-fields' }, ...rows) : null;
}

/** Text cut to what a card shows (the whole of it is in the tooltip). */
function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The most useful view of a result value. */
export function renderResult(value: unknown, preview?: string): HTMLElement {
  if (typeof value === 'number') return numberView(value);
  const estimates = estimatesOf(value);
  if (estimates) return estimatesView(estimates);
  if (isNumbers(value))
    return h(
      'div',
      { class: 'result-plot' },
      linePlot(value),
      h('div', { class: 'plot-caption' }, `${value.length} values, last ${shortNumber(value[value.length - 1]!, 6)}`),
    );
  const found = findCounts(value);
  if (found) {
    const shots = typeof found.holder?.shots === 'number' ? found.holder.shots : undefined;
    const skip = new Set(Object.keys(found.holder ?? {}).filter((k) => found.holder![k] === found.counts));
    return h(
      'div',
      { class: 'result-counts' },
      countsView(found.counts, shots),
      found.holder ? fieldsView(found.holder, new Set([...skip, 'shots'])) : null,
    );
  }
  if (typeof value === 'string' && value.startsWith('data:image/'))
    return h('img', { src: value, alt: 'result image', class: 'result-image' });
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const img = Object.values(value).find((x) => typeof x === 'string' && x.startsWith('data:image/'));
    if (typeof img === 'string') return h('img', { src: img, alt: 'result image', class: 'result-image' });
    const series = Object.entries(value).find(([, x]) => isNumbers(x));
    return h(
      'div',
      { class: 'result-object' },
      series ? h('div', { class: 'plot-title' }, series[0]) : null,
      series ? linePlot(series[1] as number[], series[0]) : null,
      fieldsView(value as Record<string, unknown>, new Set(series ? [series[0]] : [])),
    );
  }
  return h(
    'pre',
    { class: 'result-json' },
    value === undefined ? (preview ?? '') : JSON.stringify(value, null, 2).slice(0, 20_000),
  );
}
