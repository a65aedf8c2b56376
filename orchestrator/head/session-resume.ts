/**
 * A head resuming a session after the previous one died: agents that outlived it come back and
 * report the tasks they ran for it; those the session shows unfinished are adopted, so their
 * results (finished while no head was there, or still to come) are collected and recorded once.
 * Nothing that finished is run again: finished tasks are in the session, not resubmitted.
 */

import type { NormalizedTaskOptions, TaskKind, TaskSubmission } from '../protocol/messages.ts';
import { serializeValue } from '../core/serialization.ts';
import { FINAL_TASK_STATES, type SessionReader, type SessionRecorder } from '../sessions/index.ts';
import type { Head } from './head.ts';

/** Lets `head` adopt the unfinished tasks of `reader`'s session that its agents report. */
export function adoptFromSession(head: Head, reader: SessionReader, log: (line: string) => void): void {
  head.adoptTask = (taskId, nodeId) => {
    const row = reader.task(taskId);
    if (!row || FINAL_TASK_STATES.includes(row.state)) return;
    const spec: TaskSubmission = {
      taskId,
      name: row.name,
      kind: row.kind as TaskKind,
      variant: (row.variant as TaskSubmission['variant']) ?? undefined,
      codeHash: row.functionHash ?? undefined,
      actorId: row.actorId ?? undefined,
      method: row.method ?? undefined,
      args: [],
      options: JSON.parse(row.optionsJson ?? '{}') as NormalizedTaskOptions,
    };
    head.tasks.adopt(spec, `resumed-${reader.metadata().name}`, nodeId, row.attempt);
    log(`orrery: resumed task ${row.name} (${taskId}) on node ${nodeId}`);
  };
}

/**
 * After the backends are back: every task of the session that is neither finished nor adopted
 * (it was queued when the head died, or its node did not come back) is submitted again under
 * its own id, from its recorded code and arguments. A task whose arguments were not plain data
 * (refs, typed arrays, big values) cannot be rebuilt; it is marked failed in the session with
 * the reason. Returns how many were resubmitted and how many could not be.
 */
export function resubmitUnfinished(head: Head, reader: SessionReader, recorder: Pick<SessionRecorder, 'recordTaskState'>, log: (line: string) => void): { resubmitted: number; lost: number } {
  const jobId = head.startJob();
  const remoteJobs = new Map(reader.remoteJobs().map((j) => [j.taskId, j.remoteJobId]));
  let resubmitted = 0;
  let lost = 0;
  for (const row of reader.unfinishedTasks()) {
    if (head.tasks.tasks.has(row.taskId)) continue;
    const code = row.functionHash ? reader.functionCode(row.functionHash) : undefined;
    let args = row.paramsJson === null ? undefined : (JSON.parse(row.paramsJson) as unknown[]);
    // A circuit or container command whose remote job was submitted follows that job instead of submitting another.
    const remote = remoteJobs.get(row.taskId);
    if (remote && row.variant === 'circuit' && args?.length === 1 && typeof args[0] === 'object') args = [{ ...(args[0] as object), resumeJobId: remote }];
    if (remote && row.variant === 'command' && args?.length === 2 && typeof args[1] === 'object') args = [args[0], { ...(args[1] as object), resumeJobId: remote }];
    if (row.kind !== 'task' || !code || !Array.isArray(args)) {
      lost++;
      const why = row.kind !== 'task' ? 'actor state does not survive its head' : 'its arguments were not plain data, so it cannot be rebuilt from the session';
      recorder.recordTaskState(row.taskId, { state: 'FAILED', errorName: 'OwnerDiedError', errorMessage: `the head stopped before this task finished and ${why}; submit it again` });
      continue;
    }
    const spec: TaskSubmission = {
      taskId: row.taskId,
      name: row.name,
      kind: 'task',
      variant: (row.variant as TaskSubmission['variant']) ?? undefined,
      codeHash: code.hash,
      code: { kind: code.kind === 'actor-class' ? 'class' : 'function', name: code.name, source: code.source, hash: code.hash },
      args: args.map((a, i) => serializeValue(a, `argument ${i} of ${row.name}`)),
      options: JSON.parse(row.optionsJson ?? '{}') as NormalizedTaskOptions,
    };
    head.serve({ op: 'submit', task: spec }, { jobId });
    resubmitted++;
  }
  if (resubmitted + lost > 0) log(`orrery: resumed session ${reader.metadata().name}: ${resubmitted} unfinished task(s) submitted again${lost ? `, ${lost} could not be (see the session)` : ''}`);
  return { resubmitted, lost };
}
