/**
 * Records a head's run into an experiment session: every task's submission, state changes,
 * result, logs and facts (remote job ids, cost), the code of every remote function, and the
 * nodes that came and went. It only listens to the head's events; the recorder batches writes.
 */
import type { Payload } from '../core/serialization.ts';
import { ORRERY_VERSION } from '../core/version.ts';
import {
  ACTOR_CREATION,
  FINAL_TASK_STATES,
  VALUES_REDACTED,
  SessionStore,
  type SessionRecorder,
} from '../sessions/index.ts';
import type { ReadonlyTask } from '../control/task-record.ts';
import type { Head } from './head.ts';
import { describeTaskArgs } from './task-arguments.ts';

/**
 * Opens session `name` in the sessions directory (new, or continued with `resume`) and records
 * `head` into it; returns the recorder and the function that stops recording and closes it.
 * Write failures are reported once each on the head's log; they never stop the run.
 */
export function startSession(
  head: Head,
  name: string,
  config: unknown,
  placementRules: unknown,
  opts: { resume?: boolean; dir?: string; log?: (line: string) => void } = {},
): { recorder: SessionRecorder; stop: (opts?: SessionStopOptions) => Promise<void> } {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const recorder = new SessionStore(opts.dir ? { dir: opts.dir } : undefined).record(name, {
    orreryVersion: ORRERY_VERSION,
    config,
    placementRules,
    resume: opts.resume,
    onError: (err) => log(`orrery: session ${name}: ${err.message}`),
  });
  const recording = recordSession(head, recorder);
  return {
    recorder,
    stop: async (stopOpts = {}) => {
      recording.closeOut(stopOpts.unfinished);
      recording.stop();
      await recorder.close();
    },
  };
}

/** What stopping a recording does with the tasks it saw that never reached a final state. */
export interface SessionStopOptions {
  /**
   * Records each of them as cancelled with this reason (the driver of an embedded head ended,
   * so they can never finish); left out, they stay unfinished for a resumed head to take up.
   */
  readonly unfinished?: string;
}

/** A running recording: `closeOut` settles what the session shows of unfinished tasks, `stop` stops listening. */
export interface SessionRecording {
  closeOut(cancelReason?: string): void;
  stop(): void;
}

/** Starts recording `head` into `recorder`. */
export function recordSession(head: Head, recorder: SessionRecorder): SessionRecording {
  // The tasks recorded in a state that is not final yet, with that state.
  const open = new Map<string, string>();
  // The attempt of each retried task whose reason was recorded: the first record of an attempt says what became of the one before.
  const reasonGiven = new Map<string, number>();
  const recordState = (t: ReadonlyTask, state: string, given?: { name: string; message: string }) => {
    const id = t.spec.taskId;
    let error = given;
    if (!error && t.retryReason && !FINAL_TASK_STATES.includes(state) && reasonGiven.get(id) !== t.attempt) {
      error = t.retryReason;
      reasonGiven.set(id, t.attempt);
    }
    if (FINAL_TASK_STATES.includes(state)) reasonGiven.delete(id);
    recorder.recordTaskState(t.spec.taskId, {
      state,
      ts: Date.now(),
      nodeId: t.nodeId,
      backend: t.nodeId ? backendOf(head, t) : undefined,
      ruleIndex: t.ruleIndex,
      attempt: t.attempt,
      errorName: error?.name ?? t.errorName,
      errorMessage: error?.message ?? (state === 'FAILED' ? errorMessage(head, t) : undefined),
      execMs: t.execMs,
    });
    if (FINAL_TASK_STATES.includes(state)) open.delete(t.spec.taskId);
    else open.set(t.spec.taskId, state);
  };
  // Submissions waiting in the recorder's batch. One is written before its task is dispatched:
  // a head killed after dispatching a task it had not written would leave a task that runs with
  // no record, which the resumed head could neither adopt nor keep a reconnected driver from submitting again.
  let unwritten = false;
  const stop = head.events.subscribe({
    taskSubmitted(t) {
      unwritten = true;
      open.set(t.spec.taskId, t.state);
      const s = t.spec;
      const shown = describeTaskArgs(s);
      recorder.recordTaskSubmitted({
        taskId: s.taskId,
        name: s.name,
        kind: s.kind,
        variant: s.variant,
        functionHash: s.codeHash,
        actorId: s.actorId,
        method: s.method,
        argsPreview: shown.preview,
        params: shown.params,
        parentTaskId: t.parentId,
        options: shown.options,
        ts: t.submittedAt,
        jobId: t.jobId,
        state: t.state,
      });
      // A resumed head must not submit it again with the marker in place of a value.
      if (shown.redacted) recorder.recordTaskInfo(s.taskId, { [VALUES_REDACTED]: true });
      // What a resumed head adopts or creates again the actor from (session-resume.ts), its namespace filled in.
      if (s.kind === 'actor-create' && s.actor && s.actorOptions)
        recorder.recordTaskInfo(s.taskId, {
          [ACTOR_CREATION]: JSON.stringify({
            actor: s.actor,
            actorOptions: { ...s.actorOptions, namespace: s.actorOptions.namespace ?? head.namespaceOf(t.jobId) },
          }),
        });
    },
    taskChanged(t) {
      if (unwritten && t.state === 'RUNNING') {
        unwritten = false;
        recorder.flush();
      }
      recordState(t, t.state);
    },
    taskResult(t, result, from) {
      const id = t.spec.taskId;
      const record = (p: Payload) =>
        recorder.recordResult(id, p.data, { contentType: p.typed ?? (p.marked ? 'v8+refs' : 'v8') });
      if (!from?.nodeId) return record(result);
      // Freed as it settled (nobody held it): its node dropped the value too.
      if (head.queries.objectState(id) === undefined) return;
      // A large value stays on its node: pull a copy for the session (refs inside it stay held by the recorder).
      head.requests.call({ op: 'get', ids: [id] }, { jobId: t.jobId, holder: 'session-recorder' }).then(
        (rs) => {
          const r = Array.isArray(rs) ? rs[0] : undefined;
          if (r?.ok) record(r.payload);
        },
        (err: Error) =>
          recorder.recordTaskInfo(id, {
            resultNotStored: `the value stayed on node ${from.nodeId} and could not be pulled: ${err.message}`,
          }),
      );
    },
    taskInfo(t, info) {
      recorder.recordTaskInfo(t.spec.taskId, info);
      if (typeof info.jobId === 'string' && t.nodeId) {
        // A circuit batched into a shared job is followed again by its index in that job (`<job id>#<index>`).
        const remote = typeof info.batchIndex === 'number' ? `${info.jobId}#${info.batchIndex}` : info.jobId;
        recorder.recordRemoteJob(t.spec.taskId, backendOf(head, t), remote);
      }
    },
    actor(a) {
      recorder.recordActor({
        actorId: a.actorId,
        className: a.className,
        name: a.name,
        state: a.state,
        nodeId: a.nodeId,
        detail: a.detail,
      });
    },
    code(c) {
      recorder.recordFunction({
        hash: c.hash,
        name: c.name,
        kind: c.kind === 'class' ? 'actor-class' : 'function',
        source: c.source,
      });
    },
    node(e) {
      recorder.recordNode({
        nodeId: e.nodeId,
        event: e.event,
        backend: e.backend,
        resources: e.resources,
        labels: e.labels,
        detail: e.reason,
      });
    },
    job(row) {
      recorder.recordJob(row);
    },
    metrics(points) {
      recorder.recordMetrics(points);
    },
    log(e) {
      // The node too for a task's output, so the node's logs can be shown from the session.
      recorder.recordLog({ taskId: e.taskId, nodeId: e.nodeId, stream: e.stream, text: e.text, attempt: e.attempt });
    },
    usage(samples) {
      recorder.recordUsage(samples);
    },
  });
  return {
    closeOut(cancelReason) {
      for (const [taskId, recorded] of open) {
        const t = head.queries.task(taskId);
        if (!t) continue;
        if (t.state !== recorded) recordState(t, t.state);
        if (cancelReason !== undefined && !FINAL_TASK_STATES.includes(t.state))
          recordState(t, 'FAILED', { name: 'TaskCancelledError', message: cancelReason });
      }
    },
    stop,
  };
}

function backendOf(head: Head, t: ReadonlyTask): string {
  return head.queries.backendOfNode(t.nodeId!);
}

function errorMessage(head: Head, t: ReadonlyTask): string | undefined {
  const r = head.queries.result(t.spec.taskId);
  return r && !r.ok ? r.error.message : undefined;
}
