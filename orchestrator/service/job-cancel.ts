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
