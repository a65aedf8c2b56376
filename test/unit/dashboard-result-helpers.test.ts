/**
 * The dashboard's pure helpers for results and logs (issue 17 items 4 and 7): histogram bars with
 * top-k and "other", axis ticks, expectation values in their spellings, attempt headers, log
 * search, and which stack frames are internal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsBars, isCounts } from '../../renderer/src/results/counts-histogram.ts';
import { estimatesOf } from '../../renderer/src/results/expectation-values.ts';
import { niceTicks, percent, shortNumber } from '../../renderer/src/results/svg.ts';
import { filterLines, fromDetail, joinStreamed, withAttemptHeaders } from '../../renderer/src/log-lines.ts';
import { isInternalFrame, tidyFrame, withoutRepeatedMessage } from '../../renderer/src/error-text.ts';

test('few outcomes: every one, in bitstring order, with its probability', () => {
  const bars = countsBars({ '11': 480, '00': 520 });
  assert.deepEqual(
    bars.map((b) => [b.label, b.count, b.probability]),
    [
      ['00', 520, 0.52],
      ['11', 480, 0.48],
    ],
  );
  assert.equal(isCounts({ '01': 3 }), true);
  assert.equal(isCounts({ energy: 3 }), false);
});

test('many outcomes: the most frequent first, the rest summed into one "other" bar', () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 64; i++) counts[i.toString(2).padStart(6, '0')] = i + 1;
  const bars = countsBars(counts, 16);
  assert.equal(bars.length, 16);
  assert.equal(bars[0]!.label, '111111');
  assert.equal(bars[0]!.count, 64);
  const other = bars[15]!;
  assert.equal(other.label, 'other (49)');
  assert.equal(other.outcomes, 49);
  assert.equal(other.count, (49 * 50) / 2);
  const total = bars.reduce((s, b) => s + b.probability, 0);
  assert.ok(Math.abs(total - 1) < 1e-12, 'the bars still sum to 1');
});

test('ticks are round numbers covering the range; numbers and percentages stay short', () => {
  assert.deepEqual(niceTicks(0, 0.52, 4), [0, 0.2, 0.4]);
  assert.deepEqual(niceTicks(-1.2, -1.05, 3), [-1.2, -1.15, -1.1, -1.05]);
  assert.equal(shortNumber(-1.2345678901234567e-123), '-1.235e-123');
  assert.equal(shortNumber(0.123456789), '0.1235');
  assert.equal(percent(0.5), '50.0%');
  assert.equal(percent(0.00001), '<0.01%');
});

test('expectation values: one with its std, a variance as sigma, an estimator result, a list', () => {
  assert.deepEqual(estimatesOf({ value: -1.137, std: 0.004 }), [
    { label: 'value', value: -1.137, error: 0.004, kind: 'std' },
  ]);
  assert.deepEqual(estimatesOf({ energy: -1.1, variance: 0.0004 })?.[0]?.error, 0.02);
  assert.equal(estimatesOf({ energy: -1.1, variance: 0.0004 })?.[0]?.kind, 'σ from variance');
  const evs = estimatesOf({ evs: [0.9, -0.1], stds: [0.01, 0.02], observables: ['ZZ', 'XX'] });
  assert.deepEqual(
    evs?.map((e) => [e.label, e.value, e.error]),
    [
      ['ZZ', 0.9, 0.01],
      ['XX', -0.1, 0.02],
    ],
  );
  assert.equal(
    estimatesOf([
      { mean: 1, stderr: 0.1 },
      { mean: 2, stderr: 0.2 },
    ])?.length,
    2,
  );
  assert.equal(estimatesOf({ value: 1 }), undefined, 'no error: not an estimate');
  assert.equal(estimatesOf({ evs: [1, 2], stds: [0.1] }), undefined, 'lengths differ');
});

test('log lines: those the head answered with and those streamed meanwhile show once', () => {
  // The retry's lines reached the head before it answered, and the feed brought them after the fetch began.
  const earlier = fromDetail(
    [
      { attempt: 0, stream: 'stdout', text: 'loading' },
      { attempt: 1, stream: 'stdout', text: 'loading' },
      { attempt: 1, stream: 'stdout', text: 'fit converged' },
    ],
    [],
  );
  const streamed = [
    { text: 'loading', attempt: 1 },
    { text: 'fit converged', attempt: 1 },
    { text: 'saved', attempt: 1 },
  ];
  assert.deepEqual(
    withAttemptHeaders(joinStreamed(earlier, streamed)).map((l) => l.text),
    ['── attempt 1 ──', 'loading', '── attempt 2 (retry 1) ──', 'loading', 'fit converged', 'saved'],
  );
  assert.deepEqual(joinStreamed(earlier, []), earlier);
});

test('log lines: a header per attempt once a task was retried; none for a single first attempt', () => {
  const once = withAttemptHeaders(fromDetail([{ attempt: 0, stream: 'stdout', text: 'a' }], ['a']));
  assert.deepEqual(once, [{ text: 'a' }]);
  const retried = withAttemptHeaders(
    fromDetail(
      [
        { attempt: 0, stream: 'stdout', text: 'loading' },
        { attempt: 0, stream: 'stderr', text: 'reset' },
        { attempt: 1, stream: 'stdout', text: 'loading' },
      ],
      [],
    ),
  );
  assert.deepEqual(
    retried.map((l) => l.text),
    ['── attempt 1 ──', 'loading', '[err] reset', '── attempt 2 (retry 1) ──', 'loading'],
  );
  assert.deepEqual(
    fromDetail(undefined, ['x']).map((l) => l.attempt),
    [undefined],
    'without attempts (a session) no header',
  );
  assert.deepEqual(
    filterLines(retried, 'RESET').map((l) => l.text),
    ['── attempt 1 ──', '[err] reset'],
    'search keeps the header of each attempt that matches',
  );
});

test("internal frames: Orrery's, Node's and installed packages'; a remote function's own frames are the user's", () => {
  assert.equal(isInternalFrame('    at parse (/home/u/proj/node_modules/zod/lib/types.js:160:23)'), true);
  assert.equal(
    isInternalFrame('    at run (/x/node_modules/orrery-compute/orchestrator/agent/task-executor.ts:5:1)'),
    true,
  );
  assert.equal(
    isInternalFrame('    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)'),
    true,
  );
  assert.equal(isInternalFrame('    at fit (/home/u/proj/train.ts:12:3)'), false);
  assert.equal(
    isInternalFrame(
      '    at inner (eval at loadCode (/x/node_modules/orrery-compute/orchestrator/core/f.ts:1:1), <anonymous>:4:34)',
    ),
    false,
  );
  assert.equal(isInternalFrame('Error: bad input'), false);
  assert.equal(
    tidyFrame('    at inner (eval at loadCode (/x/orchestrator/core/f.ts:1:1), <anonymous>:4:34)'),
    '    at inner (remote function, line 4:34)',
    "the user's frame names its place in the function, not Orrery's loader",
  );
  assert.equal(tidyFrame('    at fit (/home/u/proj/train.ts:12:3)'), '    at fit (/home/u/proj/train.ts:12:3)');
});

test("a task error says the cause's message once: the stack's repeat of it is dropped, the frames kept", () => {
  const lines = [
    'TaskError: task f failed on node n1: Error: value 7 out of range',
    'expected 0 <= value < 1',
    '    Error: value 7 out of range',
    '    expected 0 <= value < 1',
    '        at check (eval at loadCode (/x/f.ts:1:1), <anonymous>:4:34)',
    '    expected 0 <= value < 1',
  ];
  assert.deepEqual(withoutRepeatedMessage(lines), [lines[0], lines[1], lines[4], lines[5]]);
  const plain = ['Error: boom', '    at f (/home/u/a.ts:1:1)'];
  assert.deepEqual(withoutRepeatedMessage(plain), plain);
});
