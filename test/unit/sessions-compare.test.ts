import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import {
  compareSessions,
  formatComparison,
  SessionStore,
  type SessionRecorder,
} from '../../orchestrator/sessions/index.ts';

interface Spec {
  name: string;
  hash: string;
  params: unknown;
  ms: number;
  result?: [Uint8Array, string];
  state?: string;
}

let clock = 0;
function run(rec: SessionRecorder, tasks: Spec[]): void {
  tasks.forEach((t, i) => {
    const id = `${t.name}-${i}`;
    const start = (clock += 1000);
    rec.recordTaskSubmitted({
      taskId: id,
      name: t.name,
      kind: 'task',
      functionHash: t.hash,
      params: t.params,
      argsPreview: JSON.stringify(t.params),
      ts: start - 10,
    });
    rec.recordTaskState(id, { state: 'RUNNING', ts: start });
    rec.recordTaskState(id, { state: t.state ?? 'FINISHED', ts: start + t.ms });
    if (t.result) rec.recordResult(id, t.result[0], { contentType: t.result[1] });
  });
}

const json = (v: unknown): [Uint8Array, string] => [Buffer.from(JSON.stringify(v)), 'json'];
const v8 = (v: unknown): [Uint8Array, string] => [serialize(v), 'v8'];

test('compareSessions matches tasks per name and reports params, code, result and timing differences', async () => {
  const root = mkdtempSync(join(tmpdir(), 'orrery-sessions-'));
  try {
    const store = new SessionStore({ dir: root });
    const a = store.record('a', { orreryVersion: 't' });
    run(a, [
      { name: 'sim', hash: 'h', params: [1], ms: 100, result: json({ e: 1.5 }) },
      { name: 'sim', hash: 'h', params: [2], ms: 100, result: v8({ e: new Float64Array([0.1 + 0.2, 1]) }) },
      { name: 'sim', hash: 'h', params: [3], ms: 100, result: json({ e: [1, 2, 3] }) },
      { name: 'sim', hash: 'h', params: [4], ms: 100, result: json(4) },
      { name: 'fit', hash: 'f1', params: [], ms: 50 },
      { name: 'extra', hash: 'x', params: [], ms: 10 },
    ]);
    await a.close();
    const b = store.record('b', { orreryVersion: 't' });
    run(b, [
      // Submitted in another order: matching is by hash + params first, not position.
      { name: 'sim', hash: 'h', params: [2], ms: 80, result: v8({ e: new Float64Array([0.3, 1]) }) },
      { name: 'sim', hash: 'h', params: [1], ms: 80, result: json({ e: 1.5 }) },
      { name: 'sim', hash: 'h', params: [3], ms: 80, result: json({ e: [1, 2.5, 3] }) },
      { name: 'sim', hash: 'h', params: [5], ms: 80, result: json(4) },
      { name: 'fit', hash: 'f2', params: [], ms: 70, state: 'FAILED' },
      { name: 'plot', hash: 'p', params: [], ms: 5 },
    ]);
    await b.close();

    const ra = store.open('a');
    const rb = store.open('b');
    const c = compareSessions(ra, rb);
    const rows = c.tasks.map((r) => [r.name, r.ordinal, r.status, r.taskIdA, r.taskIdB, r.params, r.code, r.result]);
    assert.deepEqual(rows, [
      ['sim', 0, 'same', 'sim-0', 'sim-1', 'same', 'same', 'equal'],
      ['sim', 1, 'same', 'sim-1', 'sim-0', 'same', 'same', 'close'],
      ['sim', 2, 'differs', 'sim-2', 'sim-2', 'same', 'same', 'differ'],
      ['sim', 3, 'differs', 'sim-3', 'sim-3', 'differ', 'same', 'equal'],
      ['fit', 0, 'differs', 'fit-4', 'fit-4', 'same', 'differ', 'none'],
      ['extra', 0, 'only-a', 'extra-5', null, null, null, null],
      ['plot', 0, 'only-b', null, 'plot-5', null, null, null],
    ]);
    assert.match(c.tasks[2]!.resultDetail!, /differs at e\[1\]; max abs diff 0\.5/);
    // The view shows both values and the size of the difference; a `same` row carries no previews.
    assert.deepEqual([c.tasks[2]!.resultA, c.tasks[2]!.resultB], ['{"e":[1,2,3]}', '{"e":[1,2.5,3]}']);
    assert.deepEqual(c.tasks[2]!.resultDiff, { path: 'e[1]', maxAbsDiff: 0.5, maxRelDiff: 0.2, fields: ['e'] });
    assert.deepEqual([c.tasks[1]!.resultA, c.tasks[1]!.resultB], [null, null]);
    assert.equal(c.tasks[1]!.resultDiff?.path, null, 'close: within tolerance');
    assert.deepEqual([c.tasks[3]!.resultA, c.tasks[3]!.resultB, c.tasks[3]!.resultDiff], ['4', '4', null]);
    assert.equal(c.tasks[4]!.stateB, 'FAILED');
    assert.deepEqual(c.counts, {
      matched: 5,
      same: 2,
      differs: 3,
      onlyInA: 1,
      onlyInB: 1,
      paramsDiffer: 1,
      codeDiffer: 1,
      resultsDiffer: 1,
      withinSamplingNoise: 0,
    });
    assert.deepEqual([c.tasks[0]!.durationMsA, c.tasks[0]!.durationMsB, c.tasks[0]!.deltaMs], [100, 80, -20]);
    assert.deepEqual(c.matchedTiming, { durationMsA: 450, durationMsB: 390, deltaMs: -60, ratio: 390 / 450 });
    assert.equal(c.a.tasks, 6);
    assert.equal(c.a.totalDurationMs, 460);
    assert.equal(c.b.session, 'b');

    // A tighter tolerance turns the float rounding difference into a real one.
    const strict = compareSessions(ra, rb, { relTol: 0, absTol: 0 });
    assert.equal(strict.tasks[1]!.result, 'differ');

    const table = formatComparison(c).split('\n');
    assert.equal(table.length, 3 + c.tasks.length);
    assert.match(table[0]!, /a \(6 tasks\) vs b \(6 tasks\): 5 matched, 2 same, 3 differ, 1 only in a, 1 only in b/);
    assert.match(table[2]!, /^task\s+#\s+status\s+params\s+code\s+result\s+a ms\s+b ms\s+Δ ms$/);
    assert.match(table[6]!, /^sim\s+3\s+differs\s+differ\s+same\s+equal\s+100\s+80\s+-20$/);
    assert.doesNotThrow(() => JSON.stringify(c), 'the comparison can be sent to the UI as JSON');
    ra.close();
    rb.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
