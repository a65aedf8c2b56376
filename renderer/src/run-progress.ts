/**
 * Progress of each run per task name, from the tasks the dashboard holds: done of total, the
 * rate they finish at (since the first of them was submitted) and the time left at that rate.
 */
import type { TaskView } from './api-types.ts';

/** One task name of one run. */
export interface NameProgress {
  readonly name: string;
  total: number;
  /** Finished or failed. */
  done: number;
  failed: number;
  firstSubmitted: number;
  lastEnded: number;
}

/** Per run id, its task names (Map: task names come from users). */
export type RunProgress = Map<string, Map<string, NameProgress>>;

/** Counts the tasks of every run by name. */
export function runProgress(tasks: Iterable<TaskView>): RunProgress {
  const out: RunProgress = new Map();
  for (const t of tasks) countTask(out, undefined, t);
  return out;
}

/**
 * Moves one task's count in `progress` from its previous view `old` (undefined: it is new) to
 * `t`: the store calls it on every update, so the Runs tab never walks all tasks.
 */
export function countTask(progress: RunProgress, old: TaskView | undefined, t: TaskView): void {
  if (old?.jobId) {
    const p = progress.get(old.jobId)?.get(old.name);
    if (p) {
      p.total--;
      if (old.state === 'FINISHED' || old.state === 'FAILED') p.done--;
      if (old.state === 'FAILED') p.failed--;
    }
  }
  if (!t.jobId) return;
  let byName = progress.get(t.jobId);
  if (!byName) progress.set(t.jobId, (byName = new Map()));
  let p = byName.get(t.name);
  if (!p) {
    p = { name: t.name, total: 0, done: 0, failed: 0, firstSubmitted: t.submittedAt, lastEnded: 0 };
    byName.set(t.name, p);
  }
  p.total++;
  if (t.submittedAt < p.firstSubmitted) p.firstSubmitted = t.submittedAt;
  if (t.state === 'FINISHED' || t.state === 'FAILED') {
    p.done++;
    if (t.state === 'FAILED') p.failed++;
    if ((t.endedAt ?? 0) > p.lastEnded) p.lastEnded = t.endedAt ?? 0;
  }
}

/** Tasks per second finished so far, up to `now` while some are left (undefined: none yet). */
export function rateOf(p: NameProgress, now: number): number | undefined {
  if (p.done === 0) return undefined;
  const end = p.done < p.total ? now : p.lastEnded || now;
  const s = (end - p.firstSubmitted) / 1000;
  return s > 0 ? p.done / s : undefined;
}

/** Milliseconds left at the rate so far (undefined: unknown or nothing left). */
export function etaOf(p: NameProgress, now: number): number | undefined {
  const rate = rateOf(p, now);
  if (rate === undefined || p.done >= p.total) return undefined;
  return ((p.total - p.done) / rate) * 1000;
}
