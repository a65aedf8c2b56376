/**
 * Runs tab, the dashboard's first view: one row per driver run (job) with its script, start,
 * status, progress per task name (n/N, rate, time left), duration, printed output (expand the
 * row's output cell) and result; below, the metric curves the selected run logged with `log()`.
 * It follows the shown store, so a session opened for replay shows that session's runs.
 */
import './runs.css';
import type { App, View } from '../app.ts';
import type { JobRow } from '../api-types.ts';
import { duration, formatTime, h, replace } from '../dom.ts';
import { formatValue } from '../metric-chart.ts';
import { etaOf, rateOf, type RunProgress } from '../run-progress.ts';
import { LatestResults, latestFinished } from './latest-results.ts';
import { runCharts } from './run-charts.ts';

/** Redraws at most this often (progress walks every task). */
const REDRAW_MS = 500;
/** Task names shown per run; the rest are summed up in one line. */
const NAMES_SHOWN = 4;
/** Result cards shown for the selected run (its newest task names). */
const RESULT_NAMES = 6;

/** The Runs tab. */
export class RunsView implements View {
  readonly id = 'runs';
  readonly title = 'Runs';
  readonly element: HTMLElement;
  private readonly table: HTMLElement;
  private readonly empty = h('p', { class: 'hint', 'data-testid': 'runs-empty' });
  private readonly charts = h('div', { class: 'run-curves', 'data-testid': 'run-curves' });
  private readonly open = new Set<string>();
  private selected: string | undefined;
  private drawnCharts = '';
  private readonly results: LatestResults;
  private readonly resultsTitle = h('h3', {});
  private drawnResults = '';
  private timer: number | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly app: App) {
    this.results = new LatestResults(app, 'run-results');
    this.element = h(
      'section',
      { class: 'runs-view' },
      h('h2', {}, 'Runs'),
      this.empty,
      (this.table = h(
        'table',
        { class: 'grid runs-table', 'aria-label': 'Runs', 'data-testid': 'runs-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['script', 'started', 'status', 'progress', 'duration', 'output', 'result'].map((c) => h('th', {}, c)),
          ),
        ),
      )),
      this.charts,
      this.resultsTitle,
      this.results.element,
    );
    app.onShownChange(() => {
      this.selected = undefined;
      this.follow();
    });
  }

  show(): void {
    this.follow();
  }

  /** Redraws on changes of the shown store while the tab is visible. */
  private follow(): void {
    this.unsubscribe?.();
    this.unsubscribe = this.app.shown.onChange(() => this.schedule());
    // A hidden tab draws when shown: a snapshot must not fetch results for a tab no one sees.
    if (!this.element.hidden) this.draw();
  }

  private schedule(): void {
    if (this.element.hidden || this.timer !== undefined) return;
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      if (!this.element.hidden) this.draw();
    }, REDRAW_MS);
  }

  private draw(): void {
    const store = this.app.shown;
    const runs = store.runs.list();
    const now = Date.now();
    this.empty.textContent =
      runs.length === 0
        ? store.replayOf
          ? `Session ${store.replayOf} recorded no runs (sessions of Orrery before schema version 3 do not have them).`
          : 'No runs yet. Every driver (a script that calls init(), e.g. orrery run script.ts) shows here as a run; log({ energy }, { step }) in it draws curves below.'
        : '';
    this.selected = runs.some((r) => r.jobId === this.selected)
      ? this.selected
      : (runs.find((r) => store.runs.series.has(r.jobId)) ?? runs[0])?.jobId;
    const progress = store.runs.progress;
    for (const b of [...this.table.querySelectorAll(':scope > tbody')]) b.remove();
    this.table.append(...runs.map((r) => this.row(r, progress, now)));
    // Running runs' durations and ETAs move with the clock: keep redrawing while one runs.
    if (runs.some((r) => r.status === 'running' && !store.replayOf)) this.schedule();
    const key = `${store.runs.version}:${this.selected}:${store.replayOf ?? ''}`;
    if (key !== this.drawnCharts) {
      this.drawnCharts = key;
      const run = runs.find((r) => r.jobId === this.selected);
      replace(this.charts, ...(run ? runCharts(run, store.runs.series.get(run.jobId)) : []));
    }
    this.drawResults(runs.find((r) => r.jobId === this.selected));
  }

  /** The selected run's latest result per task name: its own numbers, with or without log(). */
  private drawResults(run: JobRow | undefined): void {
    const store = this.app.shown;
    let done = 0;
    for (const p of (run && store.runs.progress.get(run.jobId)?.values()) ?? []) done += p.done;
    const key = `${run?.jobId}:${done}:${store.replayOf ?? ''}`;
    if (key === this.drawnResults) return;
    this.drawnResults = key;
    this.resultsTitle.textContent = run ? `Latest results of ${scriptName(run)}` : '';
    if (!run) return replace(this.results.element);
    void this.results.refresh(
      store,
      latestFinished(store, RESULT_NAMES, run.jobId),
      'No finished tasks in this run yet.',
    );
  }

  /** A run's rows: the run, and its printed output under it when expanded. */
  private row(r: JobRow, progress: RunProgress, now: number): HTMLElement {
    const ended = r.endedAt ?? (r.status === 'running' ? now : undefined);
    const output = r.output ?? [];
    const open = this.open.has(r.jobId);
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'link output-toggle',
        'aria-expanded': String(open),
        disabled: output.length === 0,
        onclick: () => {
          if (open) this.open.delete(r.jobId);
          else this.open.add(r.jobId);
          this.draw();
        },
      },
      output.length === 0 ? 'no output' : `${open ? '▾' : '▸'} ${output.length} line${output.length === 1 ? '' : 's'}`,
    );
    const main = h(
      'tr',
      {
        class: 'run-row',
        'aria-selected': String(r.jobId === this.selected),
        title: 'Click to show this run’s curves',
        onclick: (e: Event) => {
          if ((e.target as HTMLElement).closest('button')) return;
          this.selected = r.jobId;
          this.draw();
        },
      },
      h('td', { class: 'run-script', title: r.script ?? r.jobId }, scriptName(r)),
      h('td', { class: 'run-started', title: formatTime(r.startedAt) }, shortTime(r.startedAt, now)),
      h('td', {}, h('span', { class: `run-status ${r.status}`, 'data-testid': 'run-status' }, r.status)),
      h('td', { class: 'run-progress', 'data-testid': 'run-progress' }, ...progressCells(progress.get(r.jobId), now)),
      h('td', { class: 'num' }, ended === undefined ? '–' : duration(ended - r.startedAt)),
      h(
        'td',
        { class: 'run-output-cell' },
        toggle,
        h('div', { class: 'last-line', title: lastLine(output) }, lastLine(output)),
      ),
      h(
        'td',
        { class: 'run-result', 'data-testid': 'run-result' },
        ...resultCell(r, this.app.shown.runs.series.get(r.jobId)),
      ),
    );
    const body = h('tbody', { 'data-run': r.jobId, class: r.jobId === this.selected ? 'selected' : undefined }, main);
    if (open)
      body.append(
        h(
          'tr',
          { class: 'run-output-row' },
          h('td', { colspan: 7 }, h('pre', { 'data-testid': 'run-output' }, output.join('\n'))),
        ),
      );
    return body;
  }
}

/** Today's times as hh:mm:ss, other days' with their date. */
function shortTime(ms: number, now: number): string {
  const full = formatTime(ms);
  return new Date(ms).toDateString() === new Date(now).toDateString() ? full.slice(11) : full;
}

function scriptName(r: JobRow): string {
  if (!r.script) return `job ${r.jobId.slice(-8)}`;
  return r.script.split(/[\\/]/).pop() ?? r.script;
}

function lastLine(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim()) return lines[i]!.slice(0, 80);
  return '';
}

function progressCells(
  byName:
    | Map<
        string,
        { name: string; total: number; done: number; failed: number; firstSubmitted: number; lastEnded: number }
      >
    | undefined,
  now: number,
): HTMLElement[] {
  if (!byName || byName.size === 0) return [h('span', { class: 'hint' }, 'no tasks')];
  const names = [...byName.values()].sort((a, b) => b.total - a.total);
  const out = names.slice(0, NAMES_SHOWN).map((p) => {
    const rate = rateOf(p, now);
    const eta = etaOf(p, now);
    return h(
      'div',
      { class: 'name-progress', 'data-name': p.name },
      h('span', { class: 'name' }, p.name),
      h(
        'span',
        { class: 'bar', title: `${p.done} of ${p.total} done${p.failed ? `, ${p.failed} failed` : ''}` },
        h('i', { style: `width:${((100 * p.done) / p.total).toFixed(1)}%` }),
      ),
      h('span', { class: 'count' }, `${p.done}/${p.total}`),
      p.failed ? h('span', { class: 'error' }, ` ${p.failed} failed`) : null,
      h('span', { class: 'hint' }, rate === undefined ? '' : ` ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)}/s`),
      eta === undefined ? null : h('span', { class: 'hint' }, ` · ETA ${duration(eta)}`),
    );
  });
  if (names.length > NAMES_SHOWN) {
    const rest = names.slice(NAMES_SHOWN);
    const done = rest.reduce((n, p) => n + p.done, 0);
    const total = rest.reduce((n, p) => n + p.total, 0);
    out.push(h('div', { class: 'hint' }, `+ ${rest.length} more names: ${done}/${total}`));
  }
  return out;
}

function resultCell(
  r: JobRow,
  series: ReadonlyMap<string, { steps: number[]; values: number[] }> | undefined,
): (HTMLElement | string)[] {
  if (r.status === 'failed')
    return [
      h('span', { class: 'error', title: r.error ?? '' }, (r.error ?? `exit code ${r.exitCode}`).split('\n')[0]!),
    ];
  const out: (HTMLElement | string)[] = [];
  for (const [key, s] of series ?? []) {
    if (out.length >= 4) break;
    const last = s.values[s.values.length - 1];
    if (last !== undefined)
      out.push(h('div', { class: 'metric-last' }, h('span', { class: 'hint' }, `${key} `), formatValue(last)));
  }
  if (out.length === 0) out.push(r.status === 'succeeded' ? 'done' : '–');
  return out;
}
