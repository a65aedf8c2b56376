/** Cluster introspection: `nodes()`, resources, the State API and `getRuntimeContext()`. */
import type {
  ActorRow,
  BudgetRow,
  NodeRow,
  ObjectRow,
  PlacementGroupRow,
  ResourceAmounts,
  StateFilter,
  StateQuery,
  StateReplies,
  TaskRow,
  TaskSummaryRow,
} from '../protocol/state-rows.ts';
import { currentRuntime, type RuntimeContext } from './runtime.ts';

/** Options of the State API's list calls. */
export interface ListOptions {
  filters?: StateFilter[];
  limit?: number;
}

function query<Q extends StateQuery>(query: Q, o: ListOptions = {}): Promise<StateReplies[Q]> {
  return currentRuntime().call({ op: 'state', query, filters: o.filters, limit: o.limit });
}

/** Every node (alive and dead) with its resources and labels. */
export function nodes(): Promise<NodeRow[]> {
  return query('nodes');
}

/** Total resources of the live nodes. */
export function clusterResources(): Promise<ResourceAmounts> {
  return query('cluster-resources');
}

/** Resources free now on the live nodes. */
export function availableResources(): Promise<ResourceAmounts> {
  return query('available-resources');
}

/** The State API (Ray's `ray.util.state`). */
export const state = {
  listTasks: (o?: ListOptions): Promise<TaskRow[]> => query('tasks', o),
  listActors: (o?: ListOptions): Promise<ActorRow[]> => query('actors', o),
  listObjects: (o?: ListOptions): Promise<ObjectRow[]> => query('objects', o),
  listNodes: (o?: ListOptions): Promise<NodeRow[]> => query('nodes', o),
  listPlacementGroups: (o?: ListOptions): Promise<PlacementGroupRow[]> => query('placement-groups', o),
  /** Per task name (an own key of the result, whatever the name), its task counts per state. */
  summarizeTasks: (): Promise<Record<string, TaskSummaryRow>> => query('summary'),
  /** What paid jobs cost so far (charged, and reserved by jobs in flight) against the session's and backends' budgets. */
  summarizeCost: (): Promise<BudgetRow> => query('cost'),
};

/** The context of the running task (or of the driver). */
export function getRuntimeContext(): RuntimeContext {
  return currentRuntime().context();
}

/**
 * Inside a task: records facts about it (a remote job id, queue position, cost) that the State
 * API, the session and the dashboard show with the task. Later calls update earlier keys.
 */
export function recordTaskInfo(info: Record<string, string | number | boolean>): void {
  const rt = currentRuntime();
  for (const [k, v] of Object.entries(info)) {
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw new TypeError(`recordTaskInfo: value of ${k} must be a string, number or boolean`);
  }
  rt.post({ op: 'task-info', taskId: rt.context().taskId, info });
}

/**
 * Inside a task, before it starts paid work (a job on a priced service): reserves the work's
 * estimated cost against the session's and the task's backend's budgets. Rejects with
 * BudgetExceededError (nothing reserved) when the spend so far, the work in flight and this
 * estimate would cross a budget; `what` names the work in that message. The reservation lasts
 * while the task runs; the `costUsd` the task records (recordTaskInfo) is its actual charge.
 */
export function reserveBudget(estimateUsd: number, what: string): Promise<BudgetRow> {
  if (typeof estimateUsd !== 'number' || !Number.isFinite(estimateUsd) || estimateUsd < 0)
    throw new TypeError(`reserveBudget: estimateUsd must be a number of US dollars >= 0 (got ${String(estimateUsd)})`);
  return currentRuntime().call({ op: 'budget-reserve', estimateUsd, what: String(what) });
}
