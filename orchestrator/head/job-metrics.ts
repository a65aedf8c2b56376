/**
 * The metric values jobs logged (`log()`), kept by the head for the dashboard's Runs view: per
 * job and metric name, its points in the order they came. A series longer than
 * {@link POINTS_KEPT} keeps every other point of its older half, so a long run still draws its
 * whole curve in bounded memory (the session keeps every point).
 */
import type { MetricPoint } from '../protocol/state-rows.ts';

/** Points kept per job and metric name. */
export const POINTS_KEPT = 5000;

/** Metric series per job. */
export class JobMetrics {
  /** Job id -> metric name -> points (names from users: Map keys). */
  private readonly byJob = new Map<string, Map<string, MetricPoint[]>>();

  /** Adds points (any jobs, any names). */
  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      let series = this.byJob.get(p.jobId);
      if (!series) this.byJob.set(p.jobId, (series = new Map()));
      let list = series.get(p.key);
      if (!list) series.set(p.key, (list = []));
      list.push(p);
      if (list.length > POINTS_KEPT) thin(list);
    }
  }

  /** The points of these jobs (all jobs without an argument), series by series. */
  points(jobIds?: Iterable<string>): MetricPoint[] {
    const out: MetricPoint[] = [];
    const ids = jobIds ? [...jobIds] : [...this.byJob.keys()];
    for (const id of ids) for (const list of this.byJob.get(id)?.values() ?? []) out.push(...list);
    return out;
  }

  /** Forgets a job's series. */
  drop(jobId: string): void {
    this.byJob.delete(jobId);
  }
}

/** Drops every other point of the older half. */
function thin(list: MetricPoint[]): void {
  const half = Math.floor(list.length / 2);
  const kept: MetricPoint[] = [];
  for (let i = 0; i < half; i += 2) kept.push(list[i]!);
  list.splice(0, half, ...kept);
}
