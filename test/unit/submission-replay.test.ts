import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPLAY_MAX_TASKS, REPLAY_WINDOW_MS, SubmissionReplay } from '../../orchestrator/api/submission-replay.ts';
import type { TaskSubmission } from '../../orchestrator/protocol/messages.ts';

const code = { kind: 'function' as const, name: 'f', source: 'x => x', hash: 'h1' };
const task = (taskId: string, withCode: boolean, kind: TaskSubmission['kind'] = 'task'): TaskSubmission => ({
  taskId,
  name: 'f',
  kind,
  codeHash: 'h1',
  code: withCode ? code : undefined,
  args: [],
  options: {} as TaskSubmission['options'],
});

test('replays the tasks of the window whose refs are held, oldest first, the first carrying the code the new head lacks', () => {
  let now = 0;
  const r = new SubmissionReplay(() => now);
  r.sent(task('a', true));
  now = 1000;
  r.sent(task('b', false));
  r.sent(task('c', false));
  r.sent(task('m', false, 'actor-call'));
  const sentCode = new Set<string>();
  const out = r.replays((id) => id !== 'b', sentCode);
  assert.deepEqual(
    out.map((t) => t.taskId),
    ['a', 'c'],
  );
  assert.deepEqual(out[0]!.code, code);
  assert.equal(out[1]!.code, undefined);
  assert.deepEqual([...sentCode], ['h1']);
  // Kept for one more loss, code again where the head does not have it.
  assert.deepEqual(
    r.replays(() => true, new Set()).map((t) => [t.taskId, t.code?.hash]),
    [
      ['a', 'h1'],
      ['c', undefined],
    ],
  );
});

test('forgets submissions older than the window, and past the most it keeps', () => {
  let now = 0;
  const r = new SubmissionReplay(() => now);
  r.sent(task('old', true));
  now = REPLAY_WINDOW_MS + 1;
  r.sent(task('new', false));
  assert.deepEqual(
    r.replays(() => true, new Set()).map((t) => t.taskId),
    ['new'],
  );
  for (let i = 0; i < REPLAY_MAX_TASKS + 5; i++) r.sent(task(`t${i}`, false));
  const out = r.replays(() => true, new Set());
  assert.equal(out.length, REPLAY_MAX_TASKS);
  assert.equal(out[0]!.taskId, 't5');
});
