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

/** `summarizeTasks()`: per task name, how many are in each state (`retired`: finished tasks whose records went). */
export function summarize(tasks: Iterable<TaskRecord>, retired: Iterable<{ readonly record: TaskRecord; readonly count: number }>): Record<string, { name: string; type: string; stateCounts: Record<string, number> }> {
  const out: Record<string, { name: string; type: string; stateCounts: Record<string, number> }> = {};
  const add = (t: TaskRecord, n: number) => {
    const row = (out[t.spec.name] ??= { name: t.spec.name, type: taskRow(t).type as string, stateCounts: {} });
    row.stateCounts[t.state] = (row.stateCounts[t.state] ?? 0) + n;
  };
  for (const t of tasks) add(t, 1);
  for (const r of retired) add(r.record, r.count);
  return out;
}
