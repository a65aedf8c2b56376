/**
 * `POST /api/jobs/:jobId/cancel` and `orrery cancel --job`: every unfinished task of one run (a
 * driver's job) cancelled at once, the way `orrery cancel` cancels one task.
 */
import type { Head } from '../head/head.ts';

/** What a run's cancel did: the tasks told to stop, and how many of the run's tasks had already ended. */
export interface JobCancelReply {
  readonly jobId: string;
  /** Ids of the tasks that were unfinished and are now cancelled. */
  readonly cancelled: readonly string[];
  /** Tasks of the job that had already ended (left as they were). */
  readonly ended: number;
  readonly force: boolean;
}

/** The job has no task on this head. */
export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError';
  constructor(readonly jobId: string) {
    super(`no task of job ${jobId} on this head; the runs (jobs) of its tasks: orrery list tasks --json (jobId)`);
  }
}

/** Cancels every unfinished task of job `jobId` (and the tasks they submitted); throws UnknownJobError when it has none. */
export function cancelJob(head: Head, jobId: string, force: boolean): JobCancelReply {
  const open: string[] = [];
  // A cancelled task whose worker still runs in its grace period is FAILED already: force kills it too.
  const failed: string[] = [];
  let ended = 0;
  for (const t of head.queries.tasks()) {
    if (t.jobId !== jobId) continue;
    if (t.state === 'FINISHED' || t.state === 'FAILED') ended++;
    else open.push(t.spec.taskId);
    if (force && t.state === 'FAILED') failed.push(t.spec.taskId);
  }
  if (open.length === 0 && ended === 0) throw new UnknownJobError(jobId);
  for (const id of [...open, ...failed])
    void head.requests.serve({ op: 'cancel', id, force, recursive: true }, { jobId: '' });
  return { jobId, cancelled: open, ended, force };
}

/** Most task ids one `POST /api/tasks/cancel` takes (the dashboard sends a big selection in parts). */
export const MAX_CANCEL_IDS = 5000;

/** What a cancel of many tasks did: counts, so a reply for thousands stays small. */
export interface TasksCancelReply {
  /** Unfinished tasks now cancelled. */
  readonly cancelled: number;
  /** Tasks that had already ended (left as they were, unless `force` killed a worker still in its grace period). */
  readonly ended: number;
  /** Ids this head does not know (the first few). */
  readonly unknown: readonly string[];
  readonly force: boolean;
}

/**
 * `POST /api/tasks/cancel` `{ ids, force? }`: the dashboard's multi-selection cancelled in one
 * request per part, each task as `orrery cancel` cancels one (with the tasks it submitted).
 */
export function cancelTasks(head: Head, body: unknown): TasksCancelReply {
  const { ids, force = false } = (body ?? {}) as { ids?: unknown; force?: unknown };
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_CANCEL_IDS ||
    ids.some((id) => typeof id !== 'string')
  )
    throw new TypeError(
      `ids must be a list of 1 to ${MAX_CANCEL_IDS} task ids (strings); send a bigger selection in parts`,
    );
  if (typeof force !== 'boolean') throw new TypeError('force must be true or false');
  let cancelled = 0;
  let ended = 0;
  const unknown: string[] = [];
  for (const id of new Set(ids as string[])) {
    const t = head.queries.task(id);
    if (!t) {
      if (unknown.length < 10) unknown.push(id);
      continue;
    }
    const open = t.state !== 'FINISHED' && t.state !== 'FAILED';
    if (open) cancelled++;
    else ended++;
    // A cancelled task whose worker still runs in its grace period is FAILED already: force kills it too.
    if (open || (force && t.state === 'FAILED'))
      void head.requests.serve({ op: 'cancel', id, force, recursive: true }, { jobId: '' });
  }
  return { cancelled, ended, unknown, force };
}
