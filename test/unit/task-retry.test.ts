/**
 * `orrery retry`'s control-layer piece (orchestrator/control/task-retry.ts): which records can be
 * resubmitted, and the submission made from one (a new id, the code by hash only, everything
 * else as recorded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrySubmission, type RetryStore } from '../../orchestrator/control/task-retry.ts';
import type { ReadonlyTask } from '../../orchestrator/control/task-record.ts';
import { TaskRetryRefusedError } from '../../orchestrator/core/errors.ts';
import type { NormalizedTaskOptions, TaskSubmission } from '../../orchestrator/protocol/messages.ts';

const OPTIONS: NormalizedTaskOptions = {
  resources: { CPU: 1 },
  strategy: 'DEFAULT',
  maxRetries: 2,
  retryExceptions: false,
  runtimeEnv: { env: { A: '1' } },
};

const SPEC: TaskSubmission = {
  taskId: 'old',
  name: 'f',
  kind: 'task',
  codeHash: 'h1',
  code: { kind: 'function', name: 'f', source: '() => 1', hash: 'h1' },
  args: [{ data: new Uint8Array([1]), marked: false }, { ref: 'arg1' }],
  nestedRefs: ['nested1', 'wd'],
  workdir: { hash: 'w'.repeat(32), objectId: 'wd', archiveBytes: 10 },
  secrets: ['s'],
  options: OPTIONS,
};

function task(over: Partial<ReadonlyTask> = {}, spec: Partial<TaskSubmission> = {}): ReadonlyTask {
  return {
    spec: { ...SPEC, ...spec },
    jobId: 'j',
    parentId: undefined,
    state: 'FAILED',
    attempt: 2,
    nodeId: 'n',
    ruleIndex: undefined,
    errorName: 'TaskError',
    submittedAt: 0,
    startedAt: 1,
    endedAt: 2,
    execMs: 1,
    ...over,
  };
}

function store(gone: string[] = [], code = ['h1']): RetryStore {
  return { hasObject: (id) => !gone.includes(id), hasCode: (h) => code.includes(h) };
}

function refusal(fn: () => unknown, refusal: string, msg: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TaskRetryRefusedError);
    assert.equal(e.refusal, refusal);
    assert.match(e.message, /^cannot retry task old: /);
    assert.match(e.message, msg);
    return true;
  });
}

test('a failed task: the same spec under a new id, without the code (the head keeps it by hash)', () => {
  const s = retrySubmission('old', task(), 'new', store());
  const { code: _code, ...rest } = SPEC;
  assert.deepEqual(s, { ...rest, taskId: 'new' });
  assert.equal('code' in s, false);
});

test('a cancelled task (FAILED) can be retried; other states cannot', () => {
  assert.equal(retrySubmission('old', task({ errorName: 'TaskCancelledError' }), 'new', store()).taskId, 'new');
  for (const state of ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'RUNNING', 'FINISHED'] as const)
    refusal(
      () => retrySubmission('old', task({ state }), 'new', store()),
      'not-ended',
      new RegExp(`it is ${state}; only failed or cancelled tasks can be retried`),
    );
});

test("rerun (the dashboard's Re-run): a finished task too, never an unfinished one or an actor call", () => {
  const s = retrySubmission('old', task({ state: 'FINISHED', errorName: undefined }), 'new', store(), true);
  assert.equal(s.taskId, 'new');
  assert.equal(s.codeHash, 'h1');
  assert.equal(retrySubmission('old', task(), 'new', store(), true).taskId, 'new', 'a failed one as before');
  for (const state of ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'RUNNING'] as const)
    refusal(
      () => retrySubmission('old', task({ state }), 'new', store(), true),
      'not-ended',
      new RegExp(`it is ${state}; only a task that ended \\(finished, failed or cancelled\\) can be run again`),
    );
  refusal(
    () =>
      retrySubmission('old', task({ state: 'FINISHED' }, { kind: 'actor-call', name: 'C.m' }), 'new', store(), true),
    'actor-task',
    /call of actor method C\.m/,
  );
  refusal(
    () => retrySubmission('old', task({ state: 'FINISHED' }), 'new', store(['arg1']), true),
    'argument-gone',
    /argument 1 \(object arg1\) is no longer stored/,
  );
});

test('unknown task, actor creation, actor call', () => {
  refusal(() => retrySubmission('old', undefined, 'new', store()), 'unknown', /see orrery list tasks/);
  refusal(
    () => retrySubmission('old', task({}, { kind: 'actor-create', name: 'C' }), 'new', store()),
    'actor-task',
    /creates actor C; .*create it again from a driver/,
  );
  refusal(
    () => retrySubmission('old', task({}, { kind: 'actor-call', name: 'C.m', actorId: 'a1' }), 'new', store()),
    'actor-task',
    /call of actor method C\.m \(actor a1\).*Call the method again from a driver/,
  );
});

test('freed objects are named: a top-level argument, a nested ref, the working directory', () => {
  refusal(
    () => retrySubmission('old', task(), 'new', store(['arg1'])),
    'argument-gone',
    /argument 1 \(object arg1\) is no longer stored: .*Run the driver again/,
  );
  refusal(
    () => retrySubmission('old', task(), 'new', store(['nested1'])),
    'argument-gone',
    /a ref inside its arguments \(object nested1\) is no longer stored/,
  );
  refusal(
    () => retrySubmission('old', task(), 'new', store(['wd'])),
    'argument-gone',
    /its packed working directory \(object wd\) is no longer stored/,
  );
});

test('code the head does not keep, and tasks adopted from an earlier head', () => {
  refusal(
    () => retrySubmission('old', task(), 'new', store([], [])),
    'code-gone',
    /does not keep its code \(hash h1\); run the driver again/,
  );
  refusal(
    () => retrySubmission('old', task({ adopted: true }), 'new', store()),
    'code-gone',
    /submitted to an earlier head .*run the driver again/,
  );
});
