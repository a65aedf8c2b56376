/**
 * Which run (driver job) the graph and the timeline show: a select listing the shown store's
 * runs, newest last, "All runs" first. It follows the latest run until the user picks one, so a
 * new `npm start` replaces the last run on screen instead of adding to it.
 */
import { clockTime, h, replace, setText } from './dom.ts';
import { shortId } from './short-id.ts';
import type { TaskStore } from './task-store.ts';

/** One run of a store: its job id ('' where the feed did not say), first submission, task count. */
export interface RunInfo {
  readonly jobId: string;
  readonly firstAt: number;
  tasks: number;
}

/** Runs of the shown store, kept across frames (a task's job never changes: only new tasks are read). */
export class RunFilter {
  private readonly runs = new Map<string, RunInfo>();
  private done = 0;
  private store: TaskStore | undefined;
  private generation = -1;
  /** The user's pick; undefined follows the latest run. */
  private picked: string | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly selects: HTMLSelectElement[] = [];
  private optionsKey = '';

  /** The runs of `store` in order of their first task. */
  runsOf(store: TaskStore): RunInfo[] {
    if (store !== this.store || store.generation !== this.generation) {
      if (store !== this.store) this.picked = undefined;
      this.store = store;
      this.generation = store.generation;
      this.runs.clear();
      this.done = 0;
    }
    for (; this.done < store.order.length; this.done++) {
      const t = store.tasks.get(store.order[this.done]!)!;
      const jobId = t.jobId ?? '';
      const r = this.runs.get(jobId);
      if (r) r.tasks++;
      else this.runs.set(jobId, { jobId, firstAt: t.submittedAt, tasks: 1 });
    }
    return [...this.runs.values()];
  }

  /** The job id to show (undefined: every run, as when a store has one run or none). */
  selected(store: TaskStore): string | undefined {
    const runs = this.runsOf(store);
    if (runs.length <= 1) return undefined;
    if (this.picked === ALL) return undefined;
    if (this.picked !== undefined && this.runs.has(this.picked)) return this.picked;
    return runs[runs.length - 1]!.jobId;
  }

  /** Calls `fn` when the user picks another run. */
  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  /** A select bound to this filter (one per view; they stay in step). */
  select(): HTMLSelectElement {
    const s = h('select', {
      'aria-label': 'Run',
      'data-testid': 'run-filter',
      onchange: () => {
        this.picked = s.value;
        for (const o of this.selects) o.value = s.value;
        for (const fn of this.listeners) fn();
      },
    });
    this.selects.push(s);
    // The next refresh fills the new select too.
    this.optionsKey = '';
    return s;
  }

  /** Refreshes the selects' options for `store` (cheap when nothing changed). */
  refresh(store: TaskStore): void {
    const runs = this.runsOf(store);
    const current = runs.length === 1 ? runs[0]!.jobId : (this.selected(store) ?? ALL);
    const texts = [
      `All runs (${store.order.length} tasks)`,
      ...runs.map(
        (r, i) =>
          `Run ${i + 1}${r.jobId ? ` ${shortId(r.jobId)}` : ''} · ${clockTime(r.firstAt)} · ${r.tasks} tasks${i === runs.length - 1 ? ' (latest)' : ''}`,
      ),
    ];
    const key = `${texts.join('\u0000')}|${current}`;
    if (key === this.optionsKey) return;
    const sameRuns = this.optionsKey.split('\u0000').length === texts.length;
    this.optionsKey = key;
    for (const s of this.selects) {
      if (sameRuns && s.options.length === texts.length) {
        // Only counts changed (tasks streaming in): new text, no new elements.
        for (let i = 0; i < texts.length; i++) setText(s.options[i]!, texts[i]!);
      } else {
        replace(
          s,
          h('option', { value: ALL }, texts[0]!),
          ...runs.map((r, i) => h('option', { value: r.jobId, title: r.jobId || 'run' }, texts[i + 1]!)),
        );
      }
      if (s.value !== current) s.value = current;
      s.disabled = runs.length <= 1;
    }
  }
}

/** The option value of "All runs" (job ids are hex or empty, never this). */
const ALL = '*';
