/**
 * `orrery retry`: a failed or cancelled task submitted again, as a new task with a new id, from
 * the spec the head recorded (its code by hash, arguments, options, runtime env). Unlike a retry
 * within `maxRetries` (task-manager.ts), the old record and its failed result stay as they were.
 */
import { TaskRetryRefusedError } from '../core/errors.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import type { ReadonlyTask } from './task-record.ts';

/** What the head still stores, which a resubmission needs. */
export interface RetryStore {
  /** The object is stored (pending or done), not freed. */
  hasObject(objectId: string): boolean;
  /** The head keeps the code of this hash. */
  hasCode(codeHash: string): boolean;
}

/**
 * A task that may be retried: the head's record, or one rebuilt from its session
 * (head/session-resume.ts), with `unrebuildable` saying why its code or arguments are not there.
 */
export type RetryCandidate = Pick<ReadonlyTask, 'spec' | 'state' | 'adopted'> & { readonly unrebuildable?: string };

/**
 * The submission that runs task `t` again under `newTaskId`; throws TaskRetryRefusedError when it
 * cannot (an actor task, a task that did not fail (with `rerun`: did not end), an argument freed,
 * its code not kept).
 */
export function retrySubmission(
  taskId: string,
  t: RetryCandidate | undefined,
  newTaskId: string,
  store: RetryStore,
  rerun = false,
): TaskSubmission {
  const refuse = (refusal: TaskRetryRefusedError['refusal'], why: string) =>
    new TaskRetryRefusedError(taskId, refusal, why);
  if (!t)
    throw refuse(
      'unknown',
      'this head has no task with this id; see orrery list tasks (a task of an earlier head is retried by the head that resumes its session: orrery start --resume NAME)',
    );
  const s = t.spec;
  if (s.kind === 'actor-create')
    throw refuse(
      'actor-task',
      `it creates actor ${s.actor?.className ?? s.name}; an actor is not resubmitted as a task: create it again from a driver (or give it maxRestarts)`,
    );
  if (s.kind === 'actor-call')
    throw refuse(
      'actor-task',
      `it is a call of actor method ${s.name} (actor ${s.actorId ?? '?'}), which runs against the actor's state: replayed alone it would see that state as it is now, not as it was. Call the method again from a driver, or give the actor maxTaskRetries`,
    );
  if (t.state !== 'FAILED' && !(rerun && t.state === 'FINISHED'))
    throw refuse(
      'not-ended',
      rerun
        ? `it is ${t.state}; only a task that ended (finished, failed or cancelled) can be run again`
        : `it is ${t.state}; only failed or cancelled tasks can be retried (a finished one: retry --rerun)`,
    );
  if (t.unrebuildable) throw refuse('code-gone', `${t.unrebuildable}; run the driver again`);
  if (t.adopted)
    throw refuse(
      'code-gone',
      'it was submitted to an earlier head and adopted by this one, which does not keep its code and arguments; run the driver again',
    );
  if (s.codeHash !== undefined && !store.hasCode(s.codeHash))
    throw refuse('code-gone', `this head does not keep its code (hash ${s.codeHash}); run the driver again`);
  s.args.forEach((a, i) => {
    if ('ref' in a && !store.hasObject(a.ref)) throw refuse('argument-gone', gone(`argument ${i}`, a.ref));
  });
  for (const id of s.nestedRefs ?? []) {
    if (store.hasObject(id)) continue;
    const what = s.workdir?.objectId === id ? 'its packed working directory' : 'a ref inside its arguments';
    throw refuse('argument-gone', gone(what, id));
  }
  const { code: _sentOnce, ...spec } = s;
  return { ...spec, taskId: newTaskId };
}

function gone(what: string, objectId: string): string {
  return `${what} (object ${objectId}) is no longer stored: it was freed when no driver or task held a ref to it. Run the driver again`;
}
