/**
 * Lineage reconstruction (Ray's): a task result whose only copy was lost with its node is made
 * again by re-running the task that produced it, recursively for arguments that are gone too,
 * within the task's retries. `put` objects have no lineage: losing them is final.
 */
import { ObjectLostError, toErrorInfo } from '../core/errors.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import type { ObjectStore } from './object-store.ts';

/** Ids of the objects a task reads: top-level ref arguments and refs nested in argument values. */
export function argumentIds(spec: TaskSubmission): string[] {
  const ids: string[] = [];
  for (const a of spec.args) if ('ref' in a) ids.push(a.ref);
  if (spec.nestedRefs) ids.push(...spec.nestedRefs);
  return ids;
}

/**
 * A task as lineage reads it: the control layer's TaskRecord (control/task-record.ts) is one.
 * A port, so the object layer does not import the control layer that imports it.
 */
export interface LineageTask {
  readonly spec: TaskSubmission;
  readonly jobId: string;
  /** A TaskState (control/task-record.ts); only `FINISHED` tasks are re-run. */
  readonly state: string;
  readonly retriesLeft: number;
}

/** What reconstruction needs from the task table (control/task-manager.ts). */
export interface LineageTasks<T extends LineageTask> {
  /** The record of the task that made an object (a task result's id is its task's id). */
  task(taskId: string): T | undefined;
  /** Runs a finished task again (its result object is pending again); counts as a retry. */
  rerun(t: T): void;
}

/** Why an object cannot be rebuilt, or undefined when re-running its task can. */
export function whyNotReconstructable(isPut: boolean, t: LineageTask | undefined): string | undefined {
  if (isPut)
    return 'it was created by put() and the node holding its only copy died; put objects cannot be reconstructed (return the value from a task instead, so lineage can rebuild it)';
  if (!t) return 'its only copy was on a node that died, and no task of this cluster produced it';
  if (t.spec.kind !== 'task')
    return `its only copy was on a node that died, and it is the result of actor call ${t.spec.name}, which is not re-run`;
  if (t.retriesLeft <= 0)
    return `its only copy was on a node that died, and rebuilding it needs task ${t.spec.name} to run again, but it has no retries left (raise its maxRetries)`;
  if (t.state !== 'FINISHED')
    return `its only copy was on a node that died, and task ${t.spec.name} that made it is ${t.state}`;
  return undefined;
}

/** Rebuilds lost objects of a store from the tasks that made them. */
export class LineageReconstruction<T extends LineageTask> {
  constructor(
    private readonly store: ObjectStore,
    private readonly tasks: LineageTasks<T>,
    private readonly log: (line: string) => void,
  ) {}

  /** Someone waits for LOST object `id`: its task runs again, or the object fails saying why it cannot. */
  reconstruct(id: string): void {
    const { store, tasks } = this;
    const t = tasks.task(id);
    const why = whyNotReconstructable(store.isPut(id), t);
    if (why || !t) {
      store.fail(id, toErrorInfo(new ObjectLostError(id, why ?? 'unknown object')));
      return;
    }
    const args = argumentIds(t.spec);
    for (const a of args) {
      if (store.has(a)) continue;
      // A freed argument comes back as a lost object, rebuilt in turn when the re-run waits for it.
      if (tasks.task(a)?.spec.kind === 'task') store.recreateLost(a, t.jobId);
    }
    this.log(
      `orrery: object ${id} was lost with its node; re-running task ${t.spec.name} to rebuild it (lineage reconstruction)`,
    );
    store.rebuilding(id, args);
    tasks.rerun(t);
  }
}
