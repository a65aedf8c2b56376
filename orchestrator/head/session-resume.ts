/**
 * A head resuming a session after the previous one died: agents that outlived it come back and
 * report the tasks they ran for it; those the session shows unfinished are adopted, so their
 * results (finished while no head was there, or still to come) are collected and recorded once.
 * Nothing that finished is run again: finished tasks are in the session, not resubmitted.
 */
import type { NormalizedTaskOptions, TaskKind, TaskSubmission } from '../protocol/messages.ts';
import { FINAL_TASK_STATES, type SessionReader } from '../sessions/index.ts';
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
