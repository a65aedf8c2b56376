/**
 * A head resuming a session after the previous one died: agents that outlived it come back and
 * report the tasks they ran for it; those the session shows unfinished are adopted, so their
 * results (finished while no head was there, or still to come) are collected and recorded once.
 * Nothing that finished is run again: finished tasks are in the session, not resubmitted.
 */

import type { ArgSpec, NormalizedTaskOptions, TaskKind, TaskSubmission } from '../protocol/messages.ts';
import { type Payload, serializeValue, type TypedArrayName } from '../core/serialization.ts';
import { reviveSecretMarkers } from '../core/secret-ref.ts';
import {
  ACTOR_CREATION,
  FINAL_TASK_STATES,
  VALUES_REDACTED,
  type SessionReader,
  type SessionRecorder,
  type SessionTaskRow,
} from '../sessions/index.ts';
import type { TaskState } from '../protocol/state-rows.ts';
import type { Head, TaskAdoption } from './head.ts';
import { refOfMarker } from './task-arguments.ts';

/** For a head resuming `reader`'s session (HeadOptions.adoption): it adopts the unfinished tasks of the session that its agents report. */
export function adoptionFromSession(reader: SessionReader): TaskAdoption {
  return {
    adoptable(taskId) {
      const row = reader.task(taskId);
      if (!row || FINAL_TASK_STATES.includes(row.state)) return undefined;
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
      return { spec, jobId: `resumed-${reader.metadata().name}`, attempt: row.attempt };
    },
  };
}

/** An actor creation's descriptor and options, as the session recorded them (ACTOR_CREATION); undefined when it did not. */
export function actorCreationOf(
  info: Record<string, unknown>,
): Pick<TaskSubmission, 'actor' | 'actorOptions'> | undefined {
  const recorded = info[ACTOR_CREATION];
  if (typeof recorded !== 'string') return undefined;
  const { actor, actorOptions } = JSON.parse(recorded) as Pick<TaskSubmission, 'actor' | 'actorOptions'>;
  return actor && actorOptions ? { actor, actorOptions } : undefined;
}

/** Why a task whose recorded values were redacted is not submitted again. */
const REDACTED_WHY =
  'the session keeps its env values and secret-looking arguments redacted, not the values themselves ' +
  '(pass secrets with secret(name), so that a resumed head can read them from the keychain again)';

/**
 * After the backends are back: every task of the session that is neither finished nor adopted
 * (it was queued when the head died, or its node did not come back) is submitted again under
 * its own id, from its recorded code and arguments (`secret()` references are read from the
 * keychain again; a whole-argument ref is the same object again, its recorded result put back
 * when its task finished). A task whose arguments were not plain data (refs nested in values,
 * typed arrays, big values), or whose secret values were redacted from the session, cannot be rebuilt; it is marked failed
 * in the session with the reason, and a log line names it. Returns how many were resubmitted
 * and how many could not be.
 */
export function resubmitUnfinished(
  head: Head,
  reader: SessionReader,
  recorder: Pick<SessionRecorder, 'recordTaskState'>,
  log: (line: string) => void,
): { resubmitted: number; lost: number } {
  const jobId = head.startJob();
  const remoteJobs = new Map(reader.remoteJobs().map((j) => [j.taskId, j.remoteJobId]));
  let resubmitted = 0;
  let lost = 0;
  for (const row of reader.unfinishedTasks()) {
    // Actor creations are adopted or run again first (actor-resume.ts); calls follow them here, in order.
    if (head.queries.task(row.taskId) || row.kind === 'actor-create') continue;
    let args = row.paramsJson === null ? undefined : (JSON.parse(row.paramsJson) as unknown[]);
    // A circuit or container command whose remote job was submitted follows that job instead of submitting another.
    const remote = remoteJobs.get(row.taskId);
    if (remote && row.variant === 'circuit' && args?.length === 1 && typeof args[0] === 'object')
      args = [{ ...(args[0] as object), resumeJobId: remote }];
    if (remote && row.variant === 'command' && args?.length === 2 && typeof args[1] === 'object')
      args = [args[0], { ...(args[1] as object), resumeJobId: remote }];
    const rebuilt = rebuildOnHead(head, reader, row, args, jobId);
    if ('why' in rebuilt) {
      const { why } = rebuilt;
      lost++;
      log(`orrery: task ${row.name} (${row.taskId}) was not submitted again: ${why}`);
      recorder.recordTaskState(row.taskId, {
        state: 'FAILED',
        errorName: 'OwnerDiedError',
        errorMessage: `the head stopped before this task finished and ${why}; submit it again`,
      });
      continue;
    }
    const spec = rebuilt.spec;
    head.requests.post({ op: 'submit', task: spec }, { jobId });
    resubmitted++;
  }
  if (resubmitted + lost > 0)
    log(
      `orrery: resumed session ${reader.metadata().name}: ${resubmitted} unfinished task(s) submitted again${lost ? `, ${lost} could not be (see the session)` : ''}`,
    );
  return { resubmitted, lost };
}

/**
 * A task as the session recorded it, rebuilt for `orrery retry` on a head resuming the session
 * (HeadOptions.adoption's `recorded`): undefined when the session has no such task. `open`
 * opens the session anew for each call (the resuming head's reader is closed once it started).
 */
export function recordedTasksOf(open: () => SessionReader): NonNullable<TaskAdoption['recorded']> {
  return (taskId) => {
    const reader = open();
    try {
      const row = reader.task(taskId);
      if (!row) return undefined;
      const args = row.paramsJson === null ? undefined : (JSON.parse(row.paramsJson) as unknown[]);
      const rebuilt = withRecordedArguments(reader, rebuildSubmission(reader, row, args));
      const state = row.state as TaskState;
      if ('spec' in rebuilt) return { spec: rebuilt.spec, state };
      // Enough of the spec for the checks that come first (its kind and name); the code and arguments are not there.
      const spec: TaskSubmission = {
        taskId,
        name: row.name,
        kind: row.kind as TaskKind,
        actorId: row.actorId ?? undefined,
        args: [],
        options: JSON.parse(row.optionsJson ?? '{}') as NormalizedTaskOptions,
      };
      return {
        spec,
        state,
        unrebuildable: `the session that recorded it (an earlier head) cannot rebuild it: ${rebuilt.why}`,
      };
    } finally {
      reader.close();
    }
  };
}

/**
 * The result a finished task of the session recorded, as a payload (HeadOptions.adoption's
 * `result`), for a driver that reconnects to the resuming head and asks for it. `open` opens the
 * session anew for each call.
 */
export function recordedResultsOf(open: () => SessionReader): NonNullable<TaskAdoption['result']> {
  return (taskId) => {
    const reader = open();
    try {
      return recordedResult(reader, taskId);
    } finally {
      reader.close();
    }
  };
}

/**
 * A rebuilt task for a head that may not hold its ref arguments (`orrery retry`): each whole-
 * argument ref becomes the value the session recorded for its task, or the task cannot be rebuilt.
 */
function withRecordedArguments(
  reader: SessionReader,
  rebuilt: { spec: TaskSubmission } | { why: string },
): { spec: TaskSubmission } | { why: string } {
  if ('why' in rebuilt) return rebuilt;
  const args: ArgSpec[] = [];
  for (const a of rebuilt.spec.args) {
    const value = 'ref' in a ? recordedResult(reader, a.ref) : a;
    if (!value)
      return {
        why: `its argument ${(a as { ref: string }).ref} is not a result the session recorded (a put() value, or a task that did not finish)`,
      };
    args.push(value);
  }
  return { spec: { ...rebuilt.spec, args } };
}

/** The result the session recorded for finished task `taskId`, as a payload, or undefined. */
function recordedResult(reader: SessionReader, taskId: string): Payload | undefined {
  if (reader.task(taskId)?.state !== 'FINISHED') return undefined;
  const r = reader.result(taskId);
  if (!r) return undefined;
  const data = new Uint8Array(r.bytes);
  if (r.contentType === 'v8' || r.contentType === 'v8+refs') return { data, marked: r.contentType === 'v8+refs' };
  return { data, marked: false, typed: r.contentType as TypedArrayName };
}

/** {@link rebuildSubmission} for `head`, with the objects its ref arguments name there ({@link restoreRefArguments}). */
export function rebuildOnHead(
  head: Head,
  reader: SessionReader,
  row: SessionTaskRow,
  args: unknown[] | undefined,
  jobId: string,
): { spec: TaskSubmission } | { why: string } {
  const built = rebuildSubmission(reader, row, args);
  const missing = 'spec' in built ? restoreRefArguments(head, reader, built.spec, jobId) : undefined;
  return missing === undefined ? built : { why: missing };
}

/**
 * Makes sure the head has each object `spec` takes as a whole-argument ref before it is
 * submitted again: one the head knows (its task was adopted or submitted again) is left as it
 * is; the recorded result of a task that finished in the session is put back under its id.
 * Returns why it cannot be run when an argument is neither.
 */
function restoreRefArguments(
  head: Head,
  reader: SessionReader,
  spec: TaskSubmission,
  jobId: string,
): string | undefined {
  for (const a of spec.args) {
    if (!('ref' in a) || head.queries.objectState(a.ref) !== undefined) continue;
    const payload = recordedResult(reader, a.ref);
    if (!payload) return `its argument ${a.ref} is neither a result the session recorded nor being computed again`;
    head.requests.post({ op: 'put', id: a.ref, payload }, { jobId });
  }
  return undefined;
}

/**
 * A task submitted again from its session row (its id kept): its code and plain-data arguments,
 * or why it cannot be. An actor call needs no code (its actor has it); an actor creation gets its
 * class and the descriptor and options its session recorded.
 */
function rebuildSubmission(
  reader: SessionReader,
  row: SessionTaskRow,
  args: unknown[] | undefined,
): { spec: TaskSubmission } | { why: string } {
  const code = row.functionHash ? reader.functionCode(row.functionHash) : undefined;
  const info = reader.taskInfo(row.taskId);
  const creation = row.kind === 'actor-create' ? actorCreationOf(info) : undefined;
  const why =
    row.kind === 'actor-create' && !creation
      ? 'the session did not record its actor options (it was recorded by an older Orrery)'
      : info[VALUES_REDACTED] === true
        ? REDACTED_WHY
        : (!code && row.kind !== 'actor-call') || !Array.isArray(args)
          ? 'its arguments were not plain data, so it cannot be rebuilt from the session'
          : undefined;
  if (why !== undefined || !Array.isArray(args)) return { why: why ?? 'it cannot be rebuilt' };
  const secrets: string[] = [];
  const payloads: ArgSpec[] = args.map((a, i) => {
    const ref = refOfMarker(a);
    if (ref !== undefined) return { ref };
    return serializeValue(reviveSecretMarkers(a), `argument ${i} of ${row.name}`, undefined, { secrets });
  });
  return {
    spec: {
      taskId: row.taskId,
      name: row.name,
      kind: row.kind as TaskKind,
      variant: (row.variant as TaskSubmission['variant']) ?? undefined,
      codeHash: code?.hash,
      code: code && {
        kind: code.kind === 'actor-class' ? 'class' : 'function',
        name: code.name,
        source: code.source,
        hash: code.hash,
      },
      actorId: row.actorId ?? undefined,
      method: row.method ?? undefined,
      ...creation,
      args: payloads,
      secrets: secrets.length > 0 ? [...new Set(secrets)] : undefined,
      options: JSON.parse(row.optionsJson ?? '{}') as NormalizedTaskOptions,
    },
  };
}
