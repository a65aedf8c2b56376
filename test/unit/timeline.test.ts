import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceEvents } from '../../orchestrator/cli/timeline-command.ts';
import type { TaskRow } from '../../orchestrator/protocol/state-rows.ts';

function row(taskId: string, nodeId: string, startedAt: number | null, endedAt: number | null, actorId = ''): TaskRow {
  return {
    taskId,
    name: `f_${taskId}`,
    type: actorId ? 'ACTOR_TASK' : 'NORMAL_TASK',
    state: endedAt === null ? 'RUNNING' : 'FINISHED',
    jobId: 'j1',
    nodeId,
    actorId,
    parentTaskId: '',
    retryOf: '',
    attempt: 0,
    placementRule: null,
    errorType: '',
    submittedAt: 0,
    startedAt,
    endedAt,
    info: {},
  };
}

test('traceEvents: X events in microseconds, overlapping tasks of a node on different lanes, a lane reused', () => {
  const ev = traceEvents(
    [
      row('a', 'n1', 1000, 1500),
      row('b', 'n1', 1100, 1200),
      row('c', 'n1', 1500, 1600),
      row('d', 'n2', 1000, 1100),
      row('e', 'n1', 1200, null),
      row('p', '', null, null),
      row('m', 'n1', 1000, 1010, 'act1'),
    ],
    2000,
  );
  const by = new Map(ev.map((e) => [e.args.taskId, e]));
  assert.equal(ev.length, 6, 'a task that never started is left out');
  assert.deepEqual(
    { ph: by.get('a')!.ph, ts: by.get('a')!.ts, dur: by.get('a')!.dur, pid: by.get('a')!.pid, tid: by.get('a')!.tid },
    { ph: 'X', ts: 1_000_000, dur: 500_000, pid: 'node n1', tid: 'worker 0' },
  );
  assert.equal(by.get('b')!.tid, 'worker 1');
  assert.equal(by.get('e')!.tid, 'worker 1', 'b ended at 1200: its lane is free again');
  assert.equal(by.get('e')!.dur, 800_000, 'a running task ends now');
  assert.equal(by.get('c')!.tid, 'worker 0');
  assert.equal(by.get('d')!.pid, 'node n2');
  assert.equal(by.get('d')!.tid, 'worker 0');
  assert.equal(by.get('m')!.tid, 'actor act1');
});
