/**
 * Measurement counts (`{ '00': 512, '11': 488 }`, a circuit task's `counts`) as a histogram a
 * researcher reads: outcomes on x, probability on y with ticks and grid lines, each bar labelled
 * with its probability (and its count and probability on hover), and a line with the shots and
 * the number of outcomes. Many outcomes show the most frequent ones plus one "other" bar.
 */
import { h } from '../dom.ts';
import { niceTicks, percent, svg } from './svg.ts';

/** Bars shown at most; beyond that the rarest outcomes merge into "other". */
export const TOP_OUTCOMES = 16;

const W = 420;
const H = 210;
const LEFT = 44;
const RIGHT = 8;
const TOP = 16;

/** One bar: an outcome (or "other"), its count and probability. */
export interface CountsBar {
  readonly label: string;
  readonly count: number;
  readonly probability: number;
  /** Outcomes merged into the "other" bar (1 for a plain outcome). */
  readonly outcomes: number;
}

/** Whether `v` is a measurement-count object: bitstring keys, count values. */
export function isCounts(v: unknown): v is Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return (
    entries.length > 0 &&
    entries.length <= 1 << 20 &&
    entries.every(([k, x]) => /^[01]+$/.test(k) && typeof x === 'number' && x >= 0)
  );
}

/**
 * The bars of a histogram: every outcome in bitstring order when there are at most `top`,
 * else the `top - 1` most frequent (most frequent first) and "other" for the rest.
 */
export function countsBars(counts: Record<string, number>, top = TOP_OUTCOMES): CountsBar[] {
  const entries = Object.entries(counts);
  const total = entries.reduce((s, [, c]) => s + c, 0) || 1;
  const bar = (label: string, count: number, outcomes = 1): CountsBar => ({
    label,
    count,
    probability: count / total,
    outcomes,
  });
  if (entries.length <= top) return entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, c]) => bar(k, c));
  entries.sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1));
  const shown = entries.slice(0, top - 1).map(([k, c]) => bar(k, c));
  const rest = entries.slice(top - 1);
  shown.push(
    bar(
      `other (${rest.length})`,
      rest.reduce((s, [, c]) => s + c, 0),
      rest.length,
    ),
  );
  return shown;
}

/** The histogram with its caption (shots, outcomes, the most likely one). */
export function countsView(counts: Record<string, number>, shots?: number): HTMLElement {
  const bars = countsBars(counts);
  const measured = Object.values(counts).reduce((s, c) => s + c, 0);
  const outcomes = Object.keys(counts).length;
  const best = bars.filter((b) => b.outcomes === 1).reduce((a, b) => (b.count > a.count ? b : a), bars[0]!);
  return h(
    'div',
    { class: 'result-plot counts', 'data-testid': 'counts' },
    histogramSvg(bars, outcomes, measured),
    h(
      'div',
      { class: 'plot-caption', 'data-testid': 'counts-caption' },
      `${(shots ?? measured).toLocaleString('en-US')} shots · ${outcomes.toLocaleString('en-US')} outcome${outcomes === 1 ? '' : 's'}`,
      outcomes > bars.length ? ` · top ${bars.length - 1} shown, the rest as "other"` : '',
      best ? ` · most likely ${best.label} (${percent(best.probability)})` : '',
    ),
  );
}

function histogramSvg(bars: readonly CountsBar[], outcomes: number, measured: number): SVGElement {
  const longest = Math.max(...bars.map((b) => b.label.length));
  // Long bitstrings stand vertically under their bars; short ones sit flat.
  const vertical = longest * 6.6 > (W - LEFT - RIGHT) / bars.length;
  const bottom = vertical ? Math.min(110, 18 + longest * 6.6) : 34;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H + (vertical ? bottom - 34 : 0)}`,
    class: 'plot histogram',
    role: 'img',
    'aria-label': `histogram of ${outcomes} measured outcomes`,
  });
  const plotH = H - TOP - 34;
  const y0 = TOP + plotH;
  // An "other" bar far above every outcome would flatten them: the axis follows the outcomes and
  // the "other" bar is drawn cut (its label still says its share).
  const maxOutcome = Math.max(...bars.filter((b) => b.outcomes === 1).map((b) => b.probability), 1e-9);
  const maxP = Math.max(...bars.map((b) => b.probability), 1e-9);
  const cut = maxP > 2 * maxOutcome ? maxOutcome * 1.25 : undefined;
  const ticks = niceTicks(0, cut ?? maxP, 4);
  const top = Math.max(cut ?? maxP, ticks[ticks.length - 1] ?? maxP);
  const y = (p: number) => y0 - (Math.min(p, top) / top) * plotH;
  for (const t of ticks) {
    root.append(
      svg('line', { x1: LEFT, x2: W - RIGHT, y1: y(t), y2: y(t), class: 'grid' }),
      svg(
        'text',
        { x: LEFT - 4, y: y(t) + 3, 'text-anchor': 'end', class: 'axis tick' },
        `${Number((t * 100).toPrecision(3))}%`,
      ),
    );
  }
  root.append(
    svg('line', { x1: LEFT, x2: LEFT, y1: TOP, y2: y0, class: 'axis-line' }),
    svg('line', { x1: LEFT, x2: W - RIGHT, y1: y0, y2: y0, class: 'axis-line' }),
    svg(
      'text',
      {
        x: 10,
        y: TOP + plotH / 2,
        transform: `rotate(-90 10 ${TOP + plotH / 2})`,
        'text-anchor': 'middle',
        class: 'axis',
      },
      'probability',
    ),
  );
  const bw = (W - LEFT - RIGHT) / bars.length;
  bars.forEach((b, i) => {
    const x = LEFT + i * bw;
    const rect = svg('rect', {
      x: x + Math.min(2, bw * 0.1),
      y: y(b.probability),
      width: Math.max(1, bw - 2 * Math.min(2, bw * 0.1)),
      height: Math.max(0, y0 - y(b.probability)),
      class: `bar${b.outcomes > 1 ? ' other' : ''}${b.probability > top ? ' cut' : ''}`,
      'data-outcome': b.label,
      'data-count': b.count,
      'data-probability': b.probability,
    });
    rect.append(
      svg(
        'title',
        {},
        `${b.label}: ${b.count.toLocaleString('en-US')} of ${measured.toLocaleString('en-US')} shots (${percent(b.probability)})`,
      ),
    );
    root.append(rect);
    if (b.probability > top)
      root.append(
        svg('path', {
          d: `M${x + 1} ${TOP + 14} l${bw - 2} -5 M${x + 1} ${TOP + 19} l${bw - 2} -5`,
          class: 'cut-mark',
        }),
        svg('text', { x: x + bw, y: TOP - 4, 'text-anchor': 'end', class: 'bar-label' }, percent(b.probability)),
      );
    else if (bw >= 6 * percent(b.probability).length + 2)
      root.append(
        svg(
          'text',
          { x: x + bw / 2, y: y(b.probability) - 3, 'text-anchor': 'middle', class: 'bar-label' },
          percent(b.probability),
        ),
      );
    const cx = x + bw / 2;
    root.append(
      vertical
        ? svg(
            'text',
            { x: cx + 3, y: y0 + 6, transform: `rotate(90 ${cx + 3} ${y0 + 6})`, class: 'axis outcome' },
            b.label,
          )
        : svg('text', { x: cx, y: y0 + 13, 'text-anchor': 'middle', class: 'axis outcome' }, b.label),
    );
  });
  if (!vertical)
    root.append(
      svg('text', { x: LEFT + (W - LEFT - RIGHT) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, 'outcome'),
    );
  return root;
}
