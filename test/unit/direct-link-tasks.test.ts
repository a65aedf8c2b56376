import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectLinkTasks } from '../../orchestrator/agent/direct-link-tasks.ts';
import type { Message, RunMessage } from '../../orchestrator/protocol/messages.ts';

const run = (taskId: string, extra: Partial<RunMessage> = {}) =>
  ({
    type: 'run',
    taskId,
    attempt: 0,
    leaseId: `lease-${taskId}`,
    kind: 'task',
    name: 'f',
    args: [],
    ...extra,
  }) as RunMessage;
const done = (taskId: string, bytes = 8) =>
  ({ type: 'done', taskId, attempt: 0, execMs: 1, result: { data: new Uint8Array(bytes), marked: false } }) as Message;

test('a lost link hands over the tasks still in hand (lease or actor) and the results sent last, once', () => {
  const l = new DirectLinkTasks();
  l.took(run('a'));
  l.took(run('b'));
  l.took(run('c', { kind: 'actor-call', actorId: 'x1' }));
  l.sending(done('a'));
  l.sending({ type: 'log', workerId: 'w', stream: 'stdout', text: 'hi' });
  const lost = l.lost('w1') as Extract<Message, { type: 'tasks-in-hand' }>;
  assert.equal(lost.type, 'tasks-in-hand');
  assert.deepEqual(lost.tasks, [
    { taskId: 'b', holder: 'lease-b' },
    { taskId: 'c', holder: 'actor:x1' },
  ]);
  assert.deepEqual(
    lost.results.map((r) => r.taskId),
    ['a'],
  );
  assert.equal(l.lost('w1'), undefined, 'nothing twice');
});

test('results older than the resend window, or past its byte budget, are not kept', (t) => {
  const l = new DirectLinkTasks();
  const now = performance.now();
  const clock = t.mock.method(performance, 'now', () => now);
  l.sending(done('old'));
  clock.mock.mockImplementation(() => now + 6000);
  l.sending(done('new'));
  l.sending(done('huge', 65 * 1024 * 1024));
  l.sending(done('last'));
  const lost = l.lost('w') as Extract<Message, { type: 'tasks-in-hand' }>;
  assert.deepEqual(
    lost.results.map((r) => r.taskId),
    ['last'],
  );
});
