/**
 * The compared sessions' metrics (issue 17 item 5, "key metrics and curves overlaid"): per
 * metric name, one chart with a curve per session (per run, when a session has several), and
 * a table of each curve's last and lowest value and its steps. Reads GET /api/sessions/:name/jobs.
 */
import './runs.css';
import type { JobsReply } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import { formatValue, metricChart, SERIES_COLOURS, type ChartSeries } from '../metric-chart.ts';

/** One session's (or run's) curve of one metric. */
interface Curve {
  readonly label: string;
  readonly steps: number[];
  readonly values: number[];
}

/** The overlaid metric curves of compared sessions. */
export class CompareCurves {
  readonly element = h('section', { class: 'compare-curves', 'data-testid': 'compare-curves' });

  /** Loads the runs of `sessions` (two or more) and draws their metrics. */
  async show(sessions: readonly string[]): Promise<void> {
    replace(this.element, h('p', { class: 'hint' }, 'Loading metrics…'));
    let replies: JobsReply[];
    try {
      replies = await Promise.all(sessions.map((s) => api<JobsReply>(`sessions/${encodeURIComponent(s)}/jobs`)));
    } catch (err) {
      replace(this.element, h('p', { class: 'error' }, `Cannot load the sessions' metrics: ${(err as Error).message}`));
      return;
    }
    const byKey = curvesByMetric(sessions, replies);
    if (byKey.size === 0) {
      replace(
        this.element,
        h('h3', {}, 'Metrics'),
        h(
          'p',
          { class: 'hint' },
          'None of these sessions logged metrics (log({ loss }, { step }) in a driver or task).',
        ),
      );
      return;
    }
    const charts: HTMLElement[] = [];
    const rows: HTMLElement[] = [];
    for (const [key, curves] of byKey) {
      const series: ChartSeries[] = curves.map((c, i) => ({
        label: c.label,
        colour: SERIES_COLOURS[i % SERIES_COLOURS.length]!,
        steps: c.steps,
        values: c.values,
      }));
      charts.push(metricChart(key, series));
      for (const c of curves) {
        rows.push(
          h(
            'tr',
            { 'data-metric': key, 'data-curve': c.label },
            h('td', {}, key),
            h('td', {}, c.label),
            h('td', { class: 'num' }, formatValue(c.values[c.values.length - 1]!)),
            h('td', { class: 'num' }, formatValue(Math.min(...c.values))),
            h('td', { class: 'num' }, String(c.values.length)),
          ),
        );
      }
    }
    replace(
      this.element,
      h('h3', {}, `Metrics of ${sessions.join(' vs ')}`),
      h(
        'table',
        { class: 'grid metric-summary', 'aria-label': 'Metric values per session', 'data-testid': 'compare-metrics' },
        h('thead', {}, h('tr', {}, ...['metric', 'session', 'last', 'min', 'points'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...rows),
      ),
      h('div', { class: 'chart-grid' }, ...charts),
    );
  }
}

/** Metric name -> one curve per session (per run where a session has several runs that logged it). */
function curvesByMetric(sessions: readonly string[], replies: readonly JobsReply[]): Map<string, Curve[]> {
  const out = new Map<string, Curve[]>();
  replies.forEach((reply, i) => {
    const perRun = new Map<string, Map<string, Curve>>();
    const scripts = new Map(reply.jobs.map((j) => [j.jobId, j.script?.split(/[\\/]/).pop() ?? j.jobId.slice(-8)]));
    for (const p of reply.metrics) {
      let runs = perRun.get(p.key);
      if (!runs) perRun.set(p.key, (runs = new Map()));
      let c = runs.get(p.jobId);
      if (!c) runs.set(p.jobId, (c = { label: '', steps: [], values: [] }));
      c.steps.push(p.step);
      c.values.push(p.value);
    }
    for (const [key, runs] of perRun) {
      let list = out.get(key);
      if (!list) out.set(key, (list = []));
      for (const [jobId, c] of runs)
        list.push({ ...c, label: runs.size > 1 ? `${sessions[i]} · ${scripts.get(jobId) ?? jobId}` : sessions[i]! });
    }
  });
  return out;
}
