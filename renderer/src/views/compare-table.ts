/**
 * The comparison of two sessions, as GET /api/sessions/compare computes it: totals and the
 * matched-task time ratio, then one row per task with what differs, both result values (short
 * previews) and the size of the difference (absolute / relative for numbers; changed outcomes,
 * total variation distance and the chi-square verdict for measurement counts). Filters: only
 * differences, and hide differences within sampling noise.
 */
import type { ResultDiff, SessionComparison, TaskComparison } from '../api-types.ts';
import { h, replace } from '../dom.ts';

/** Rows drawn at most (the rest are counted). */
const MAX_ROWS = 2000;

const num = (v: number): string =>
  v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : String(+v.toPrecision(4));
const pct = (v: number): string => `${+(v * 100).toPrecision(3)}%`;
const ms = (v: number | null): string => (v === null ? '–' : `${Math.round(v)}`);

/** What differs in a row, as short phrases. */
export function whatDiffers(t: TaskComparison): string[] {
  if (t.status === 'only-a') return ['only in A'];
  if (t.status === 'only-b') return ['only in B'];
  const out: string[] = [];
  if (t.params === 'differ') out.push('params');
  if (t.code === 'differ') out.push('code');
  if (t.stateA !== t.stateB) out.push('state');
  if (t.result === 'differ') out.push('result');
  if (t.result === 'missing-a' || t.result === 'missing-b') out.push('result missing');
  return out;
}

/** A row's status; a row whose only difference is counts within sampling noise says so instead of `differs`. */
export function statusText(t: TaskComparison): string {
  const only = whatDiffers(t);
  return t.status === 'differs' &&
    only.length === 1 &&
    only[0] === 'result' &&
    t.resultDiff?.counts?.withinSamplingNoise
    ? 'noise only'
    : t.status;
}

/** The size of a result difference in words, e.g. `Δ 0.5 (16.7%) at e[1]`. */
export function describeDiff(t: TaskComparison): string[] {
  const lines: string[] = [];
  if (t.params === 'differ') lines.push(`params ${t.paramsA ?? '–'} → ${t.paramsB ?? '–'}`);
  if (t.stateA !== t.stateB && t.status !== 'only-a' && t.status !== 'only-b')
    lines.push(`state ${t.stateA} → ${t.stateB}`);
  if (t.result === 'missing-a') lines.push('A stored no result');
  if (t.result === 'missing-b') lines.push('B stored no result');
  const d: ResultDiff | null = t.resultDiff;
  if (d?.counts) {
    const c = d.counts;
    const top = c.changed
      .slice(0, 3)
      .map((x) => `${x.key}: ${x.a}→${x.b}`)
      .join(', ');
    if (c.changedKeys === 0) lines.push(`counts identical; shots ${c.shotsA} vs ${c.shotsB}`);
    else {
      lines.push(
        `counts: ${c.changedKeys} outcome${c.changedKeys === 1 ? '' : 's'} changed (${top}${c.changedKeys > 3 ? ', …' : ''})` +
          `${c.onlyInA || c.onlyInB ? `; ${c.onlyInA} only in A, ${c.onlyInB} only in B` : ''}; shots ${c.shotsA} vs ${c.shotsB}`,
      );
      lines.push(
        `TVD ${num(c.tvd)}; χ² p=${c.pValue === null ? '–' : num(c.pValue)}: ${c.withinSamplingNoise ? 'within sampling noise' : 'beyond sampling noise'}`,
      );
    }
  } else if (d && (d.maxAbsDiff > 0 || d.path)) {
    // The size over every number compared; for counts the lines above say it better.
    const at = d.path ? ` at ${d.path}` : '';
    if (d.maxAbsDiff > 0) lines.push(`max Δ ${num(d.maxAbsDiff)} (${pct(d.maxRelDiff)})${at}`);
    else if (d.path) lines.push(`differs at ${d.path}`);
  } else if (t.result === 'differ' && t.resultDetail) lines.push(t.resultDetail);
  if (d?.fields.length) lines.push(`fields: ${d.fields.join(', ')}`);
  if (t.code === 'differ') lines.push('code changed');
  return lines;
}

/** The "only differences" checkbox (checked at first). */
export function onlyDiffBox(): HTMLInputElement {
  return h('input', { type: 'checkbox', checked: true, 'data-testid': 'compare-only-diff' });
}

/** The "hide differences within sampling noise" checkbox. */
export function hideNoiseBox(): HTMLInputElement {
  return h('input', { type: 'checkbox', 'data-testid': 'compare-hide-noise' });
}

/** Renders a comparison into `out`, with its filters. */
export class CompareTable {
  readonly element = h('div', { class: 'compare', 'data-testid': 'compare-result' });
  private readonly onlyDiff: HTMLInputElement;
  private readonly hideNoise: HTMLInputElement;
  /** False when the filters live outside this table (the N-way comparison shares them). */
  private readonly ownFilters: boolean;
  private readonly body = h('div', {});
  private data: SessionComparison | undefined;

  /** `filters`: checkboxes owned by the caller, which also redraws this table when they change (see redraw()). */
  constructor(filters?: { onlyDiff: HTMLInputElement; hideNoise: HTMLInputElement }) {
    this.ownFilters = !filters;
    this.onlyDiff = filters?.onlyDiff ?? onlyDiffBox();
    this.hideNoise = filters?.hideNoise ?? hideNoiseBox();
    if (this.ownFilters) {
      this.onlyDiff.onchange = () => this.draw();
      this.hideNoise.onchange = () => this.draw();
    }
  }

  /** Draws the rows again (after a shared filter changed). */
  redraw(): void {
    this.draw();
  }

  show(c: SessionComparison): void {
    this.data = c;
    const n = c.counts;
    const t = c.matchedTiming;
    replace(
      this.element,
      h(
        'p',
        { 'data-testid': 'compare-summary' },
        `${c.a.session} (A, ${c.a.tasks} tasks) vs ${c.b.session} (B, ${c.b.tasks} tasks): ` +
          `matched: ${n.matched} · same: ${n.same} · differs: ${n.differs} · only in A: ${n.onlyInA} · only in B: ${n.onlyInB}` +
          ` · params differ: ${n.paramsDiffer} · code differs: ${n.codeDiffer} · results differ: ${n.resultsDiffer}` +
          (n.withinSamplingNoise ? ` (${n.withinSamplingNoise} within sampling noise)` : ''),
      ),
      h(
        'div',
        { class: 'hint', 'data-testid': 'compare-timing' },
        `Matched task time: A ${ms(t.durationMsA)} ms, B ${ms(t.durationMsB)} ms (Δ ${ms(t.deltaMs)} ms` +
          `${t.ratio === null ? '' : `, B/A ×${num(t.ratio)}`}). Wall time: A ${ms(c.a.wallMs)} ms, B ${ms(c.b.wallMs)} ms.`,
      ),
      this.ownFilters
        ? h(
            'div',
            { class: 'toolbar' },
            h('label', {}, this.onlyDiff, ' only differences'),
            h('label', {}, this.hideNoise, ' hide differences within sampling noise'),
          )
        : null,
      this.body,
    );
    this.draw();
  }

  showError(message: string): void {
    this.data = undefined;
    replace(this.element, h('p', { class: 'error', role: 'alert' }, message));
  }

  private draw(): void {
    const c = this.data;
    if (!c) return;
    const rows = c.tasks.filter(
      (t) =>
        (!this.onlyDiff.checked || t.status !== 'same') &&
        (!this.hideNoise.checked || !(t.result === 'differ' && t.resultDiff?.counts?.withinSamplingNoise)),
    );
    const head = ['task', '#', 'status', 'differs in', 'A value', 'B value', 'difference', 'A ms', 'B ms', 'B/A'];
    replace(
      this.body,
      h(
        'div',
        { class: 'hint', 'data-testid': 'compare-shown' },
        `${rows.length} of ${c.tasks.length} tasks shown${rows.length > MAX_ROWS ? ` (first ${MAX_ROWS} drawn)` : ''}.`,
      ),
      h(
        'table',
        { class: 'grid compare-table' },
        h('thead', {}, h('tr', {}, ...head.map((k) => h('th', {}, k)))),
        h(
          'tbody',
          {},
          ...rows.slice(0, MAX_ROWS).map((t) =>
            h(
              'tr',
              {
                class: `cmp-${t.status}${t.resultDiff?.counts?.withinSamplingNoise ? ' cmp-noise' : ''}`,
                'data-task-a': t.taskIdA ?? '',
                'data-task-b': t.taskIdB ?? '',
              },
              h('td', {}, t.name),
              h('td', {}, String(t.ordinal)),
              h('td', { 'data-col': 'status' }, statusText(t)),
              h('td', { 'data-col': 'differs' }, whatDiffers(t).join(', ') || '–'),
              h('td', { class: 'value', 'data-col': 'a', title: t.resultA ?? '' }, t.resultA ?? '–'),
              h('td', { class: 'value', 'data-col': 'b', title: t.resultB ?? '' }, t.resultB ?? '–'),
              h('td', { class: 'diff', 'data-col': 'diff' }, ...describeDiff(t).map((l) => h('div', {}, l))),
              h('td', { class: 'num' }, ms(t.durationMsA)),
              h('td', { class: 'num' }, ms(t.durationMsB)),
              h(
                'td',
                { class: 'num' },
                t.durationMsA && t.durationMsB !== null ? `×${num(t.durationMsB / t.durationMsA)}` : '–',
              ),
            ),
          ),
        ),
      ),
    );
  }
}
