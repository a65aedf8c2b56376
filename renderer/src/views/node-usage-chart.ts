/**
 * One node's usage history as an SVG line chart: percent of the node (0-100 %) against local
 * clock time, with a line each for CPU, memory, GPU utilisation and GPU memory (when the node
 * has GPUs) and QPU slots (quantum nodes), and a legend giving the latest values in their units.
 */
import type { NodeUsageSample } from '../api-types.ts';
import { h } from '../dom.ts';

const W = 560;
const H = 180;
const LEFT = 42;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 28;
/** A longer pause between samples breaks the line (the head samples every 2 s; older samples are minutes apart). */
const GAP_MS = 150_000;
/** Points drawn per line at most (about one per pixel); longer histories are thinned. */
const MAX_POINTS = 600;
const TICK_STEPS_MS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map(
  (s) => s * 1000,
);

/** A line of the chart. */
interface Series {
  readonly key: string;
  readonly label: string;
  readonly colour: string;
  readonly dash?: string;
  /** Percent 0-100, or undefined where the sample lacks it. */
  value(s: NodeUsageSample): number | undefined;
  /** The latest value in its own units. */
  describe(s: NodeUsageSample): string;
}

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;
const pct = (v: number) => `${v.toFixed(0)} %`;

const SERIES: readonly Series[] = [
  {
    key: 'cpu',
    label: 'CPU',
    colour: '#2563eb',
    value: (s) => (s.cpu === undefined ? undefined : s.cpu * 100),
    describe: (s) => pct((s.cpu ?? 0) * 100),
  },
  {
    key: 'memory',
    label: 'memory',
    colour: '#16a34a',
    value: (s) =>
      s.memUsedBytes !== undefined && s.memTotalBytes ? (100 * s.memUsedBytes) / s.memTotalBytes : undefined,
    describe: (s) => `${gib(s.memUsedBytes ?? 0)} / ${gib(s.memTotalBytes ?? 0)}`,
  },
  {
    key: 'gpu',
    label: 'GPU',
    colour: '#9333ea',
    value: (s) => s.gpuUtil,
    describe: (s) => `${pct(s.gpuUtil ?? 0)} (${s.gpus ?? 0} GPU${s.gpus === 1 ? '' : 's'})`,
  },
  {
    key: 'gpu-memory',
    label: 'GPU memory',
    colour: '#db2777',
    dash: '5 3',
    value: (s) =>
      s.gpuMemUsedMb !== undefined && s.gpuMemTotalMb ? (100 * s.gpuMemUsedMb) / s.gpuMemTotalMb : undefined,
    describe: (s) => `${gib((s.gpuMemUsedMb ?? 0) * 1024 ** 2)} / ${gib((s.gpuMemTotalMb ?? 0) * 1024 ** 2)}`,
  },
  {
    key: 'qpu',
    label: 'QPU slots',
    colour: '#ea580c',
    value: (s) => (s.qpuUsed !== undefined && s.qpuTotal ? (100 * s.qpuUsed) / s.qpuTotal : undefined),
    describe: (s) =>
      `${+(s.qpuUsed ?? 0).toFixed(1)} / ${s.qpuTotal ?? 0} in use${s.queued ? `, ${+s.queued.toFixed(1)} queued (best position ${s.queuePosition ?? '?'})` : ''}`,
  },
];

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function clock(ms: number, seconds: boolean): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}${seconds ? `:${p(d.getSeconds())}` : ''}`;
}

/** Time-axis ticks: a round step giving at most six labels. */
function timeTicks(from: number, to: number): { step: number; ticks: number[] } {
  const span = Math.max(1, to - from);
  const step = TICK_STEPS_MS.find((s) => span / s <= 6) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1]!;
  const offset = new Date(from).getTimezoneOffset() * 60_000;
  const ticks: number[] = [];
  for (let t = Math.ceil((from - offset) / step) * step + offset; t <= to; t += step) ticks.push(t);
  return { step, ticks };
}

/**
 * A figure with the node's chart over `[from, to]` (ms since the epoch) and its legend.
 * Lines appear only for what the node has (no GPU lines on a node without GPUs).
 */
export function nodeUsageChart(
  nodeId: string,
  backend: string,
  samples: readonly NodeUsageSample[],
  from: number,
  to: number,
): HTMLElement {
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to);
  const stride = Math.ceil(inWindow.length / MAX_POINTS);
  const shown = stride <= 1 ? inWindow : inWindow.filter((_, i) => (inWindow.length - 1 - i) % stride === 0);
  const series = SERIES.filter((se) => shown.some((s) => se.value(s) !== undefined));
  const x = (t: number) => LEFT + ((t - from) / Math.max(1, to - from)) * (W - LEFT - RIGHT);
  const y = (v: number) => TOP + (1 - Math.min(100, Math.max(0, v)) / 100) * (H - TOP - BOTTOM);
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'node-usage-svg',
    role: 'img',
    'aria-label': `Usage of node ${nodeId} over time: ${series.map((s) => s.label).join(', ') || 'no samples'}, percent of the node`,
  });
  for (const v of [0, 25, 50, 75, 100]) {
    chart.append(svg('line', { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), class: 'grid-line' }));
    chart.append(svg('text', { x: LEFT - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis-label' }, `${v}%`));
  }
  const { step, ticks } = timeTicks(from, to);
  for (const t of ticks) {
    chart.append(svg('line', { x1: x(t), x2: x(t), y1: H - BOTTOM, y2: H - BOTTOM + 4, class: 'axis-tick' }));
    chart.append(
      svg(
        'text',
        { x: x(t), y: H - BOTTOM + 15, 'text-anchor': 'middle', class: 'axis-label', 'data-tick': t },
        clock(t, step < 60_000),
      ),
    );
  }
  chart.append(svg('line', { x1: LEFT, x2: W - RIGHT, y1: H - BOTTOM, y2: H - BOTTOM, class: 'axis-line' }));
  chart.append(
    svg('text', { x: W - RIGHT, y: H - 2, 'text-anchor': 'end', class: 'axis-title' }, 'local time'),
    svg(
      'text',
      {
        x: 10,
        y: (H - BOTTOM + TOP) / 2,
        class: 'axis-title',
        transform: `rotate(-90 10 ${(H - BOTTOM + TOP) / 2})`,
        'text-anchor': 'middle',
      },
      '% of node',
    ),
  );
  for (const se of series) {
    let points: string[] = [];
    let last = -Infinity;
    const flush = () => {
      if (points.length > 0)
        chart.append(
          svg('polyline', {
            points: points.join(' '),
            fill: 'none',
            stroke: se.colour,
            'stroke-width': 1.6,
            ...(se.dash ? { 'stroke-dasharray': se.dash } : {}),
            'data-series': se.key,
          }),
        );
      points = [];
    };
    for (const s of shown) {
      const v = se.value(s);
      if (v === undefined) continue;
      if (s.t - last > GAP_MS) flush();
      points.push(`${x(s.t).toFixed(1)},${y(v).toFixed(1)}`);
      last = s.t;
    }
    flush();
  }
  const latest = shown[shown.length - 1];
  const legend = h(
    'ul',
    { class: 'usage-legend' },
    ...series.map((se) => {
      const last = [...shown].reverse().find((s) => se.value(s) !== undefined);
      return h(
        'li',
        { 'data-series': se.key },
        h('span', { class: 'swatch', style: `background:${se.colour}` }),
        `${se.label} `,
        h('strong', {}, last ? se.describe(last) : '–'),
      );
    }),
  );
  return h(
    'figure',
    { class: 'node-usage', 'data-node': nodeId, 'data-testid': 'node-usage-chart' },
    h(
      'figcaption',
      {},
      h('strong', {}, nodeId),
      ` (${backend})`,
      latest ? h('span', { class: 'hint' }, ` · ${inWindow.length} samples, latest ${clock(latest.t, true)}`) : null,
    ),
    shown.length === 0 ? h('p', { class: 'hint' }, 'No usage samples in this window.') : chart,
    legend,
  );
}
