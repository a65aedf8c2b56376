/** Rows for the State API (`state.list*`, `summarizeTasks`) built from the head's tables. */
import type { StateFilter } from '../protocol/messages.ts';
import type { TaskRecord } from '../control/task-record.ts';
import { redactSecrets } from '../core/secret-values.ts';
import { amountsOf, type ResourceSet } from '../core/resources.ts';
import type { NodeLink } from './node-link.ts';

/** Applies `[key, '=' | '!=', value]` filters and a limit to rows. */
export function filterRows(rows: Iterable<Record<string, unknown>>, filters: readonly StateFilter[] = [], limit = 10_000): Record<string, unknown>[] {
  for (const f of filters) {
    if (!Array.isArray(f) || f.length !== 3 || (f[1] !== '=' && f[1] !== '!=')) {
      throw new TypeError(`state filter ${JSON.stringify(f)} must be [key, '=' | '!=', value]`);
    }
  }
  const out: Record<string, unknown>[] = [];
  for (const r of rows) {
    if (out.length >= limit) break;
    if (filters.every(([k, op, v]) => (String(r[k]) === String(v)) === (op === '='))) out.push(r);
  }
  return out;
}

/** Rows made lazily from a table (`filterRows` stops at its limit, so only the rows it looks at are made). */
export function* mapRows<T>(table: Iterable<T>, row: (x: T) => Record<string, unknown>): Iterable<Record<string, unknown>> {
  for (const x of table) yield row(x);
}

/** One row of the task table (facts under secret-looking names redacted). */
export function taskRow(t: TaskRecord): Record<string, unknown> {
  return {
    taskId: t.spec.taskId,
    name: t.spec.name,
    type: t.spec.kind === 'task' ? 'NORMAL_TASK' : t.spec.kind === 'actor-create' ? 'ACTOR_CREATION_TASK' : 'ACTOR_TASK',
    state: t.state,
    jobId: t.jobId,
    nodeId: t.nodeId ?? '',
    actorId: t.spec.actorId ?? '',
    parentTaskId: t.parentId ?? '',
    attempt: t.attempt,
    placementRule: t.ruleIndex ?? null,
    errorType: t.errorName ?? '',
    submittedAt: t.submittedAt,
    startedAt: t.startedAt ?? null,
    endedAt: t.endedAt ?? null,
    info: redactSecrets(t.info ?? {}).value,
  };
}

/** One row of the node table (label values under secret-looking names redacted); `available` is what the scheduler has left on it. */
export function nodeRow(n: NodeLink, available: ResourceSet | undefined): Record<string, unknown> {
  return {
    nodeId: n.nodeId, backend: n.backend, state: n.alive ? 'ALIVE' : 'DEAD', resources: n.resources,
    available: n.alive ? amountsOf(available ?? {}) : {}, labels: redactSecrets(n.labels).value, pid: n.pid, deathReason: n.deathReason ?? '',
  };
}

/** One name's row of {@link summarize}. */
export interface TaskSummaryRow {
  name: string;
  type: string;
  stateCounts: Record<string, number>;
}

/**
 * `summarizeTasks()`: per task name, how many are in each state (`retired`: finished tasks
 * whose records went). Names are users', so rows are collected in a Map and the result has
 * each name as an own key (a task named `__proto__` is a row, not the prototype).
 */
export function summarize(tasks: Iterable<TaskRecord>, retired: Iterable<{ readonly record: TaskRecord; readonly count: number }>): Record<string, TaskSummaryRow> {
  const rows = new Map<string, TaskSummaryRow>();
  const add = (t: TaskRecord, n: number) => {
    let row = rows.get(t.spec.name);
    if (row === undefined) rows.set(t.spec.name, (row = { name: t.spec.name, type: taskRow(t).type as string, stateCounts: {} }));
    row.stateCounts[t.state] = (row.stateCounts[t.state] ?? 0) + n;
  };
  for (const t of tasks) add(t, 1);
  for (const r of retired) add(r.record, r.count);
  return Object.fromEntries(rows);
}
