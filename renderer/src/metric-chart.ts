/**
 * A line chart of metric series over steps (Runs tab, session comparison): SVG with both axes,
 * "nice" tick values, axis labels and a legend. A series longer than the plot is wide is thinned
 * to its minimum and maximum per pixel column, so a long run keeps its shape and stays cheap.
 */
import { h } from './dom.ts';

/** One curve. */
export interface ChartSeries {
  readonly label: string;
  readonly colour: string;
  readonly steps: readonly number[];
  readonly values: readonly number[];
  /** Drawn dashed (a reference value, such as an exact energy). */
  readonly dashed?: boolean;
}

const SVG = 'http://www.w3.org/2000/svg';
const W = 560;
const H = 240;
const PAD = { left: 64, right: 14, top: 12, bottom: 38 };

/** Colours of series in order (runs, sessions). */
export const SERIES_COLOURS = ['#3b5bdb', '#d9480f', '#2b8a3e', '#ae3ec9', '#0c8599', '#e8590c', '#5c940d', '#c2255c'];

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** About `count` round tick values covering [lo, hi]; whole numbers only with `integer` (steps). */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = Math.max((hi - lo) / count, integer ? 1 : 0);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw && (!integer || Number.isInteger(s))) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** A number as an axis or legend shows it. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(+v.toPrecision(6));
}

/** The chart of `series` titled `title`, its y axis labelled `yLabel`. */
export function metricChart(title: string, series: readonly ChartSeries[], yLabel = title): HTMLElement {
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of series)
    for (let i = 0; i < s.steps.length; i++) {
      xMin = Math.min(xMin, s.steps[i]!);
      xMax = Math.max(xMax, s.steps[i]!);
      yMin = Math.min(yMin, s.values[i]!);
      yMax = Math.max(yMax, s.values[i]!);
    }
  if (!Number.isFinite(xMin)) [xMin, xMax, yMin, yMax] = [0, 1, 0, 1];
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) [yMin, yMax] = [yMin - Math.abs(yMin || 1) * 0.05, yMax + Math.abs(yMax || 1) * 0.05];
  const padY = (yMax - yMin) * 0.06;
  yMin -= padY;
  yMax += padY;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - xMin) / (xMax - xMin)) * pw;
  const y = (v: number) => PAD.top + (1 - (v - yMin) / (yMax - yMin)) * ph;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'metric-chart',
    role: 'img',
    'aria-label': `${title} over steps`,
  });
  for (const t of niceTicks(yMin, yMax)) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: 'grid-line' }));
    root.append(svg('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, formatValue(t)));
  }
  const wholeSteps = series.every((s) => s.steps.every(Number.isInteger));
  for (const t of niceTicks(xMin, xMax, 6, wholeSteps)) {
    root.append(svg('line', { x1: x(t), x2: x(t), y1: H - PAD.bottom, y2: H - PAD.bottom + 4, class: 'axis' }));
    root.append(
      svg('text', { x: x(t), y: H - PAD.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, formatValue(t)),
    );
  }
  root.append(svg('line', { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom, class: 'axis' }));
  root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom, class: 'axis' }));
  root.append(svg('text', { x: PAD.left + pw / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis-label' }, 'step'));
  root.append(
    svg(
      'text',
      {
        x: 12,
        y: PAD.top + ph / 2,
        'text-anchor': 'middle',
        class: 'axis-label',
        transform: `rotate(-90 12 ${PAD.top + ph / 2})`,
      },
      yLabel,
    ),
  );
  for (const s of series) {
    const pts = thinned(s, x, y);
    const attrs: Record<string, string | number> = { points: pts, fill: 'none', stroke: s.colour, class: 'series' };
    if (s.dashed) attrs['stroke-dasharray'] = '6 4';
    const line = svg('polyline', attrs);
    const last = s.values[s.values.length - 1];
    line.append(svg('title', {}, `${s.label}: last ${last === undefined ? '–' : formatValue(last)}`));
    root.append(line);
    if (s.steps.length === 1)
      root.append(svg('circle', { cx: x(s.steps[0]!), cy: y(s.values[0]!), r: 3, fill: s.colour }));
  }
  return h(
    'figure',
    { class: 'metric-figure', 'data-metric': title },
    h('figcaption', {}, title),
    root as unknown as HTMLElement,
    h(
      'div',
      { class: 'chart-legend' },
      ...series.map((s) =>
        h(
          'span',
          {},
          h('i', { class: s.dashed ? 'swatch dashed' : 'swatch', style: `border-color:${s.colour}` }),
          s.label,
        ),
      ),
    ),
  );
}

/** The polyline points of `s`, at most two per pixel column (its min and max there). */
function thinned(s: ChartSeries, x: (v: number) => number, y: (v: number) => number): string {
  const out: string[] = [];
  if (s.steps.length <= 2 * W) {
    for (let i = 0; i < s.steps.length; i++) out.push(`${x(s.steps[i]!).toFixed(1)},${y(s.values[i]!).toFixed(1)}`);
    return out.join(' ');
  }
  let col = -1;
  let lo = 0;
  let hi = 0;
  const flush = () => {
    if (col < 0) return;
    out.push(`${col},${y(lo).toFixed(1)}`, `${col},${y(hi).toFixed(1)}`);
  };
  for (let i = 0; i < s.steps.length; i++) {
    const c = Math.round(x(s.steps[i]!));
    const v = s.values[i]!;
    if (c !== col) {
      flush();
      col = c;
      lo = hi = v;
    } else {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  flush();
  return out.join(' ');
}
