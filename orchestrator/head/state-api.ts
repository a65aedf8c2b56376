/** Rows for the State API (`state.list*`, `summarizeTasks`) built from the head's tables. */
import type { ReadonlyTask } from '../control/task-record.ts';
import { redactSecrets } from '../core/secret-values.ts';
import { amountsOf, type ResourceSet } from '../core/resources.ts';
import type { NodeRow, StateFilter, TaskRow, TaskSummaryRow, TaskType } from '../protocol/state-rows.ts';
import type { NodeLink } from './node-link.ts';

/** Applies `[key, '=' | '!=', value]` filters and a limit to rows. */
export function filterRows<R extends object>(
  rows: Iterable<R>,
  filters: readonly StateFilter[] = [],
  limit = 10_000,
): R[] {
  for (const f of filters) {
    if (!Array.isArray(f) || f.length !== 3 || (f[1] !== '=' && f[1] !== '!=')) {
      throw new TypeError(`state filter ${JSON.stringify(f)} must be [key, '=' | '!=', value]`);
    }
  }
  const out: R[] = [];
  for (const r of rows) {
    if (out.length >= limit) break;
    if (filters.every(([k, op, v]) => (String((r as Record<string, unknown>)[k]) === String(v)) === (op === '=')))
      out.push(r);
  }
  return out;
}

/** Rows made lazily from a table (`filterRows` stops at its limit, so only the rows it looks at are made). */
export function* mapRows<T, R>(table: Iterable<T>, row: (x: T) => R): Iterable<R> {
  for (const x of table) yield row(x);
}

/** Ray's name for the kind of a task. */
function taskType(t: ReadonlyTask): TaskType {
  return t.spec.kind === 'task' ? 'NORMAL_TASK' : t.spec.kind === 'actor-create' ? 'ACTOR_CREATION_TASK' : 'ACTOR_TASK';
}

/** One row of the task table (facts under secret-looking names redacted). */
export function taskRow(t: ReadonlyTask): TaskRow {
  return {
    taskId: t.spec.taskId,
    name: t.spec.name,
    type: taskType(t),
    state: t.state,
    jobId: t.jobId,
    nodeId: t.nodeId ?? '',
    actorId: t.spec.actorId ?? '',
    parentTaskId: t.parentId ?? '',
    retryOf: t.retryOf ?? '',
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
export function nodeRow(n: NodeLink, available: ResourceSet | undefined): NodeRow {
  return {
    nodeId: n.nodeId,
    backend: n.backend,
    state: n.alive ? 'ALIVE' : 'DEAD',
    resources: n.resources,
    available: n.alive ? amountsOf(available ?? {}) : {},
    labels: redactSecrets(n.labels).value,
    pid: n.pid,
    deathReason: n.deathReason ?? '',
  };
}

/**
 * `summarizeTasks()`: per task name, how many are in each state (`retired`: finished tasks
 * whose records went). Names are users', so rows are collected in a Map and the result has
 * each name as an own key (a task named `__proto__` is a row, not the prototype).
 */
export function summarize(
  tasks: Iterable<ReadonlyTask>,
  retired: Iterable<{ readonly record: ReadonlyTask; readonly count: number }>,
): Record<string, TaskSummaryRow> {
  const rows = new Map<
    string,
    { name: string; type: TaskType; stateCounts: Partial<Record<ReadonlyTask['state'], number>> }
  >();
  const add = (t: ReadonlyTask, n: number) => {
    let row = rows.get(t.spec.name);
    if (row === undefined) rows.set(t.spec.name, (row = { name: t.spec.name, type: taskType(t), stateCounts: {} }));
    row.stateCounts[t.state] = (row.stateCounts[t.state] ?? 0) + n;
  };
  for (const t of tasks) add(t, 1);
  for (const r of retired) add(r.record, r.count);
  return Object.fromEntries(rows);
}
