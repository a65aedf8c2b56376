/**
 * Views for common results: a number, an array of numbers (line plot), measurement counts
 * (`{ '00': 512, '11': 488 }`, a histogram), an image (a `data:image/` URL), else JSON.
 */
import { h } from './dom.ts';

const SVG = 'http://www.w3.org/2000/svg';
const W = 360;
const H = 160;

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function isCounts(v: unknown): v is Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return (
    entries.length > 0 &&
    entries.length <= 4096 &&
    entries.every(([k, x]) => /^[01]+$/.test(k) && typeof x === 'number')
  );
}

/** Finds a measurement-count object at the top or one level down (`{ counts: {...} }`). */
function findCounts(v: unknown): Record<string, number> | undefined {
  if (isCounts(v)) return v;
  if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) if (isCounts(x)) return x;
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
  const x = (i: number) => 40 + (i / Math.max(1, values.length - 1)) * (W - 50);
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
    svg('text', { x: 2, y: 14, class: 'axis' }, max.toPrecision(4)),
    svg('text', { x: 2, y: H - 20, class: 'axis' }, min.toPrecision(4)),
  );
  root.append(svg('text', { x: W - 40, y: H - 4, class: 'axis' }, `n=${values.length}`));
  return root;
}

/** A histogram of measurement counts, bars sorted by outcome. */
export function histogram(counts: Record<string, number>): SVGElement {
  const keys = Object.keys(counts).sort();
  const max = Math.max(...keys.map((k) => counts[k]!), 1);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'plot histogram',
    role: 'img',
    'aria-label': `histogram of ${keys.length} outcomes`,
  });
  const bw = (W - 20) / keys.length;
  keys.forEach((k, i) => {
    const bh = (counts[k]! / max) * (H - 40);
    const bar = svg('rect', {
      x: 10 + i * bw + 1,
      y: H - 20 - bh,
      width: Math.max(1, bw - 2),
      height: bh,
      fill: '#7c3aed',
      'data-outcome': k,
    });
    bar.append(svg('title', {}, `${k}: ${counts[k]}`));
    root.append(bar);
    if (keys.length <= 32)
      root.append(svg('text', { x: 10 + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, k));
  });
  return root;
}

/** The most useful view of a result value. */
export function renderResult(value: unknown, preview?: string): HTMLElement {
  if (typeof value === 'number') return h('div', { class: 'result-number', title: String(value) }, String(value));
  if (Array.isArray(value) && value.length > 1 && value.every((x) => typeof x === 'number'))
    return h('div', { class: 'result-plot' }, linePlot(value as number[]) as unknown as Node);
  const counts = findCounts(value);
  if (counts) return h('div', { class: 'result-plot' }, histogram(counts) as unknown as Node);
  if (typeof value === 'string' && value.startsWith('data:image/'))
    return h('img', { src: value, alt: 'result image', class: 'result-image' });
  if (typeof value === 'object' && value !== null) {
    const img = Object.values(value).find((x) => typeof x === 'string' && x.startsWith('data:image/'));
    if (typeof img === 'string') return h('img', { src: img, alt: 'result image', class: 'result-image' });
    const series = Object.entries(value).find(
      ([, x]) => Array.isArray(x) && x.length > 1 && x.every((n) => typeof n === 'number'),
    );
    if (series)
      return h(
        'div',
        { class: 'result-plot' },
        h('div', {}, series[0]),
        linePlot(series[1] as number[], series[0]) as unknown as Node,
        h('pre', {}, JSON.stringify(value, null, 1).slice(0, 4000)),
      );
  }
  return h(
    'pre',
    { class: 'result-json' },
    value === undefined ? (preview ?? '') : JSON.stringify(value, null, 2).slice(0, 20_000),
  );
}
