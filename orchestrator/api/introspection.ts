/** Cluster introspection: `nodes()`, resources, the State API and `getRuntimeContext()`. */
import type { StateFilter, StateQuery } from '../protocol/messages.ts';
import { currentRuntime, type RuntimeContext } from './runtime.ts';

/** Options of the State API's list calls. */
export interface ListOptions {
  filters?: StateFilter[];
  limit?: number;
}

async function query<T>(q: StateQuery, o: ListOptions = {}): Promise<T> {
  return currentRuntime().call<T>({ op: 'state', query: q, filters: o.filters, limit: o.limit });
}

/** Every node (alive and dead) with its resources and labels. */
export function nodes(): Promise<Record<string, unknown>[]> {
  return query('nodes');
}

/** Total resources of the live nodes. */
export function clusterResources(): Promise<Record<string, number>> {
  return query('cluster-resources');
}

/** Resources free now on the live nodes. */
export function availableResources(): Promise<Record<string, number>> {
  return query('available-resources');
}

/** The State API (Ray's `ray.util.state`). */
export const state = {
  listTasks: (o?: ListOptions) => query<Record<string, unknown>[]>('tasks', o),
  listActors: (o?: ListOptions) => query<Record<string, unknown>[]>('actors', o),
  listObjects: (o?: ListOptions) => query<Record<string, unknown>[]>('objects', o),
  listNodes: (o?: ListOptions) => query<Record<string, unknown>[]>('nodes', o),
  listPlacementGroups: (o?: ListOptions) => query<Record<string, unknown>[]>('placement-groups', o),
  summarizeTasks: () => query<Record<string, { name: string; type: string; stateCounts: Record<string, number> }>>('summary'),
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
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new TypeError(`recordTaskInfo: value of ${k} must be a string, number or boolean`);
  }
  rt.post({ op: 'task-info', taskId: rt.context().taskId, info });
}
