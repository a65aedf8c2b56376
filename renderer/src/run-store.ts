/**
 * The drivers' runs (jobs) of what the dashboard shows, live or replayed, and the metric
 * series each logged (`log()`): per run and metric name, steps and values in arrival order.
 * Metric names come from users, so they are Map keys only.
 */
import type { JobRow, MetricPoint, TaskView } from './api-types.ts';
import { countTask, type RunProgress } from './run-progress.ts';

/** One metric of one run: its points in the order they were logged. */
export interface MetricSeries {
  readonly steps: number[];
  readonly values: number[];
}

/** Runs and their metric series. */
export class RunStore {
  readonly jobs = new Map<string, JobRow>();
  /** Run id -> metric name -> series. */
  readonly series = new Map<string, Map<string, MetricSeries>>();
  /** Per run and task name, its tasks' counts (kept up to date by the task store). */
  readonly progress: RunProgress = new Map();
  /** Bumped on every change. */
  version = 0;

  constructor(private readonly changed: () => void = () => {}) {}

  /** Replaces everything (a snapshot, or a session's runs). */
  reset(jobs: readonly JobRow[], metrics: readonly MetricPoint[]): void {
    this.jobs.clear();
    this.series.clear();
    this.upsertJobs(jobs);
    this.addMetrics(metrics);
    this.touch();
  }

  /** Adds or updates runs. */
  upsertJobs(jobs: readonly JobRow[]): void {
    for (const j of jobs) this.jobs.set(j.jobId, j);
    if (jobs.length) this.touch();
  }

  /** Appends metric points. */
  addMetrics(points: readonly MetricPoint[]): void {
    for (const p of points) {
      let byKey = this.series.get(p.jobId);
      if (!byKey) this.series.set(p.jobId, (byKey = new Map()));
      let s = byKey.get(p.key);
      if (!s) byKey.set(p.key, (s = { steps: [], values: [] }));
      s.steps.push(p.step);
      s.values.push(p.value);
    }
    if (points.length) this.touch();
  }

  /** A task arrived (`old` undefined) or changed: its run's counts follow (TaskStore.upsert calls it). */
  countTask(old: TaskView | undefined, t: TaskView): void {
    countTask(this.progress, old, t);
  }

  /** Forgets the counts (the task store was reset). */
  clearProgress(): void {
    this.progress.clear();
  }

  /** Runs, newest first. */
  list(): JobRow[] {
    return [...this.jobs.values()].sort((a, b) => b.startedAt - a.startedAt);
  }

  private touch(): void {
    this.version++;
    this.changed();
  }
}
