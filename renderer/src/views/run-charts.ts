/**
 * The curves of one run: one chart per metric group. Names with a slash share their group's
 * chart (`energy` and `energy/exact` draw together, W&B-style sections); a member named
 * `exact`, `target` or `reference` is drawn dashed, as the value the curve converges towards.
 */
import type { JobRow } from '../api-types.ts';
import { h } from '../dom.ts';
import { metricChart, SERIES_COLOURS, type ChartSeries } from '../metric-chart.ts';
import type { MetricSeries } from '../run-store.ts';

/** Members of a group drawn as a dashed reference line. */
const REFERENCE = /\/(exact|target|reference|baseline)$/i;

/** The group a metric name belongs to (what comes before its first slash). */
export function metricGroup(key: string): string {
  const i = key.indexOf('/');
  return i > 0 ? key.slice(0, i) : key;
}

/** Groups metric names, keeping first-logged order (Map: names from users). */
export function groupMetrics(keys: Iterable<string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const g = metricGroup(k);
    const list = groups.get(g);
    if (list) list.push(k);
    else groups.set(g, [k]);
  }
  return groups;
}

/** Whether a metric is drawn as a reference line. */
export function isReference(key: string): boolean {
  return REFERENCE.test(key);
}

/** The heading and charts of `run`'s metrics. */
export function runCharts(run: JobRow, series: ReadonlyMap<string, MetricSeries> | undefined): HTMLElement[] {
  const name = run.script?.split(/[\\/]/).pop() ?? `job ${run.jobId.slice(-8)}`;
  if (!series || series.size === 0)
    return [
      h('h3', {}, `Metrics of ${name}`),
      h(
        'p',
        { class: 'hint' },
        'This run logged no metrics. Call log({ loss }, { step }) in the driver or a task to draw curves here.',
      ),
    ];
  const charts: HTMLElement[] = [];
  for (const [group, keys] of groupMetrics(series.keys())) {
    const lines: ChartSeries[] = keys.map((k, i) => ({
      label: k,
      colour: isReference(k) ? '#495057' : SERIES_COLOURS[i % SERIES_COLOURS.length]!,
      steps: series.get(k)!.steps,
      values: series.get(k)!.values,
      dashed: isReference(k),
    }));
    charts.push(metricChart(group, lines));
  }
  return [h('h3', {}, `Metrics of ${name}`), h('div', { class: 'chart-grid' }, ...charts)];
}
