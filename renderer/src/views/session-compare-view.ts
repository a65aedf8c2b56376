/**
 * The comparison of two or more sessions (GET /api/sessions/compare?s=A&s=B&s=C), the first
 * being the baseline: key metrics, config, backends and placement rules side by side, each value
 * that differs from the baseline's highlighted with the size of the difference (Δ and % for
 * numbers; added, removed or changed otherwise); then task by task, the baseline against one
 * chosen session (CompareTable: both values, their difference, sampling noise). One "only
 * differences" filter applies to both tables.
 */
import type { CompareValueRow, MultiSessionComparison } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { CompareCurves } from './compare-curves.ts';
import { CompareTable, hideNoiseBox, onlyDiffBox } from './compare-table.ts';

const SECTIONS: readonly [CompareValueRow['section'], string][] = [
  ['metrics', 'Key metrics'],
  ['config', 'Config'],
  ['backends', 'Backends'],
  ['rules', 'Placement rules'],
];

const num = (v: number): string =>
  v === 0 ? '0' : Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3 ? v.toExponential(2) : String(+v.toPrecision(4));

/** How a value differs from the baseline's, e.g. `+1 (+100%)`, `added`, `removed`, `changed`. */
export function sizeOfDifference(row: CompareValueRow, i: number): string {
  const v = row.values[i] ?? null;
  const base = row.values[0] ?? null;
  if (i === 0 || v === base) return '';
  const d = row.deltas[i];
  if (d !== null && d !== undefined) {
    const b = Number(base);
    const rel =
      b !== 0 && Number.isFinite(b) ? ` (${d > 0 ? '+' : ''}${+((d / Math.abs(b)) * 100).toPrecision(3)}%)` : '';
    return `${d > 0 ? '+' : ''}${num(d)}${rel}`;
  }
  if (base === null) return 'added';
  if (v === null) return 'removed';
  return 'changed';
}

/** The N-way comparison, drawn into `element`. */
export class SessionCompareView {
  readonly element: HTMLElement;
  /** Each metric's curves of the compared sessions, overlaid. */
  private readonly curves = new CompareCurves();
  /** The compared sessions, baseline first (empty before the first comparison). */
  private names: readonly string[] = [];
  private readonly onlyDiff = onlyDiffBox();
  private readonly hideNoise = hideNoiseBox();
  private readonly overview = h('div', { class: 'compare-overview', 'data-testid': 'compare-overview' });
  private readonly pair = h('select', { 'aria-label': 'Tasks of the baseline against', 'data-testid': 'compare-pair' });
  private readonly pairLine = h('div', { class: 'toolbar', 'data-testid': 'compare-pair-line' });
  private readonly tasks = new CompareTable({ onlyDiff: this.onlyDiff, hideNoise: this.hideNoise });
  private data: MultiSessionComparison | undefined;

  constructor() {
    this.onlyDiff.onchange = () => {
      this.drawOverview();
      this.tasks.redraw();
    };
    this.hideNoise.onchange = () => this.tasks.redraw();
    this.pair.onchange = () => this.drawPair();
    this.element = h(
      'div',
      { class: 'compare-many' },
      h(
        'div',
        { class: 'toolbar compare-filters', hidden: true },
        h('label', { class: 'check-label' }, this.onlyDiff, ' only differences'),
        h('label', { class: 'check-label' }, this.hideNoise, ' hide differences within sampling noise'),
      ),
      this.overview,
      this.curves.element,
      this.pairLine,
      this.tasks.element,
    );
  }

  /** Shows a comparison. */
  show(c: MultiSessionComparison): void {
    this.data = c;
    this.names = c.sessions.map((s) => s.session);
    void this.curves.show(this.names);
    (this.element.firstElementChild as HTMLElement).hidden = false;
    replace(this.pair, ...c.pairs.map((p, i) => h('option', { value: String(i) }, `${p.a.session} vs ${p.b.session}`)));
    replace(
      this.pairLine,
      h('h3', {}, 'Tasks'),
      c.pairs.length > 1
        ? this.pair
        : h('span', { class: 'hint' }, `${c.pairs[0]?.a.session ?? ''} (A) vs ${c.pairs[0]?.b.session ?? ''} (B)`),
    );
    this.drawOverview();
    this.drawPair();
  }

  /** Shows why the comparison failed, and nothing else. */
  showError(message: string): void {
    this.data = undefined;
    (this.element.firstElementChild as HTMLElement).hidden = true;
    replace(this.overview);
    replace(this.pairLine);
    this.tasks.showError(message);
  }

  private drawPair(): void {
    const p = this.data?.pairs[Number(this.pair.value) || 0];
    if (p) this.tasks.show(p);
  }

  private drawOverview(): void {
    const c = this.data;
    if (!c) return;
    const only = this.onlyDiff.checked;
    const differing = c.rows.filter((r) => r.differs).length;
    const head = h(
      'tr',
      {},
      h('th', {}, ''),
      ...c.sessions.map((s, i) =>
        h(
          'th',
          { 'data-session': s.session },
          h('div', {}, s.title ?? s.session, i === 0 ? h('span', { class: 'chip' }, 'baseline') : null),
          s.title ? h('div', { class: 'session-file' }, s.session) : null,
          s.tags.length ? h('div', { class: 'tags' }, ...s.tags.map((t) => h('span', { class: 'tag' }, t))) : null,
        ),
      ),
    );
    const body: HTMLElement[] = [];
    for (const [section, label] of SECTIONS) {
      const all = c.rows.filter((r) => r.section === section);
      const rows = only ? all.filter((r) => r.differs) : all;
      body.push(
        h(
          'tr',
          { class: 'section-row' },
          h(
            'th',
            { colspan: c.sessions.length + 1 },
            label,
            h(
              'span',
              { class: 'count' },
              all.length === 0
                ? ' · none recorded'
                : ` · ${all.filter((r) => r.differs).length} of ${all.length} differ`,
            ),
          ),
        ),
      );
      for (const r of rows) body.push(valueRow(r));
    }
    replace(
      this.overview,
      h(
        'p',
        { 'data-testid': 'compare-overview-summary' },
        `${c.sessions.length} sessions against ${c.sessions[0]?.session}: ${differing} of ${c.rows.length} values differ` +
          (only ? ' (only differences shown).' : '.'),
      ),
      h(
        'table',
        { class: 'grid compare-values', 'aria-label': 'Sessions side by side', 'data-testid': 'compare-values' },
        h('thead', {}, head),
        h('tbody', {}, ...body),
      ),
    );
  }
}

/** One key across the sessions; cells that differ from the baseline are marked and say by how much. */
function valueRow(r: CompareValueRow): HTMLElement {
  return h(
    'tr',
    { class: r.differs ? 'changed' : '', 'data-key': `${r.section}:${r.key}` },
    h('td', { class: 'key' }, r.key),
    ...r.values.map((v, i) => {
      const size = sizeOfDifference(r, i);
      return h(
        'td',
        { class: `value${size ? ' differs' : ''}`, title: v ?? 'not set' },
        h('span', { class: 'v' }, v ?? '–'),
        size ? h('span', { class: 'size', 'data-testid': 'diff-size' }, size) : null,
      );
    }),
  );
}
