/**
 * Comparing N sessions against the first: key metrics, config, backends and placement rules
 * side by side with what differs and by how much, and task-by-task pairs that keep values and
 * difference sizes (compareSessions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareManySessions,
  compareSessions,
  formatComparison,
  formatMultiComparison,
  SessionStore,
  type SessionReader,
} from '../../orchestrator/sessions/index.ts';
import { flatten } from '../../orchestrator/sessions/settings-diff.ts';

async function record(
  store: SessionStore,
  name: string,
  setup: { backends: unknown[]; rules: unknown[]; x: number; fail?: boolean; cost?: number },
): Promise<void> {
  const rec = store.record(name, {
    orreryVersion: 't',
    config: { backends: setup.backends },
    placementRules: setup.rules,
  });
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) {
    const id = `${name}-sq-${i}`;
    rec.recordTaskSubmitted({
      taskId: id,
      name: 'square',
      kind: 'task',
      functionHash: 'h',
      params: [i],
      argsPreview: `[${i}]`,
      ts: t0,
    });
    rec.recordTaskState(id, { state: 'RUNNING', ts: t0 + 10, backend: 'local' });
    rec.recordTaskState(id, { state: 'FINISHED', ts: t0 + 110 });
    rec.recordResult(id, Buffer.from(JSON.stringify(i * i)), { contentType: 'json' });
  }
  const id = `${name}-energy`;
  rec.recordTaskSubmitted({
    taskId: id,
    name: 'energy',
    kind: 'task',
    functionHash: 'e',
    params: [setup.x],
    argsPreview: `[${setup.x}]`,
    ts: t0,
  });
  rec.recordTaskState(id, { state: 'RUNNING', ts: t0 + 10, backend: 'slurm' });
  rec.recordTaskState(id, { state: setup.fail ? 'FAILED' : 'FINISHED', ts: t0 + 10 + setup.x * 100 });
  if (!setup.fail) rec.recordResult(id, Buffer.from(JSON.stringify({ e: -setup.x })), { contentType: 'json' });
  if (setup.cost) rec.recordTaskInfo(id, { costUsd: setup.cost });
  await rec.close();
}

test('compareManySessions: metrics, config, backends and rules against the first, and each pair task by task', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-cmp-many-'));
  const readers: SessionReader[] = [];
  try {
    const store = new SessionStore({ dir });
    const slurm = { name: 'slurm', kind: 'slurm', partition: 'debug', maxNodes: 1 };
    await record(store, 'base', {
      backends: [slurm],
      rules: [{ match: { name: 'energy' }, require: { backend: 'slurm' } }],
      x: 1,
    });
    await record(store, 'more-nodes', {
      backends: [{ ...slurm, maxNodes: 2 }],
      rules: [{ match: { name: 'energy' }, require: { backend: 'slurm' } }],
      x: 2,
      cost: 0.5,
    });
    await record(store, 'local-only', {
      backends: [{ name: 'ssh', kind: 'ssh', host: '127.0.0.1' }],
      rules: [{ match: { name: 'energy' }, prefer: { backend: 'ssh' } }],
      x: 1,
      fail: true,
    });
    store.label('more-nodes', { title: 'Two nodes', tags: ['scale'] });
    for (const n of ['base', 'more-nodes', 'local-only']) readers.push(store.open(n));
    const c = compareManySessions(readers);

    assert.deepEqual(
      c.sessions.map((s) => [s.session, s.title, s.tags]),
      [
        ['base', null, []],
        ['more-nodes', 'Two nodes', ['scale']],
        ['local-only', null, []],
      ],
    );
    const row = (section: string, key: string) => {
      const r = c.rows.find((x) => x.section === section && x.key === key);
      assert.ok(r, `a ${section} row ${key} among ${c.rows.map((x) => `${x.section}:${x.key}`).join(' ')}`);
      return r;
    };
    assert.deepEqual(
      c.rows
        .filter((r) => r.section === 'metrics')
        .slice(0, 3)
        .map((r) => r.key),
      ['tasks', 'finished', 'failed'],
    );
    assert.deepEqual(row('metrics', 'failed').values, ['0', '0', '1']);
    assert.deepEqual(row('metrics', 'failed').deltas, [0, 0, 1]);
    assert.equal(row('metrics', 'tasks').differs, false);
    // Sum of durations: 3 × 100 ms + x × 100 ms.
    assert.deepEqual(row('metrics', 'task time ms (sum)').values, ['400', '500', '400']);
    assert.deepEqual(row('metrics', 'task time ms (sum)').deltas, [0, 100, 0]);
    assert.deepEqual(row('metrics', 'cost USD').values, ['0', '0.5', '0']);
    assert.equal(
      c.rows.find((r) => r.key === 'billable s'),
      undefined,
      'no session recorded billable seconds: the row is left out',
    );
    assert.deepEqual(row('metrics', 'tasks on slurm').values, ['1', '1', '1']);

    const maxNodes = row('backends', 'slurm.maxNodes');
    assert.deepEqual([maxNodes.values, maxNodes.deltas, maxNodes.differs], [['1', '2', null], [0, 1, null], true]);
    assert.deepEqual(row('backends', 'slurm.partition').values, ['debug', 'debug', null]);
    assert.deepEqual(row('backends', 'ssh.host').values, [null, null, '127.0.0.1']);
    assert.deepEqual(row('rules', '#1.require.backend').values, ['slurm', 'slurm', null]);
    assert.deepEqual(row('rules', '#1.prefer.backend').values, [null, null, 'ssh']);
    assert.equal(row('rules', '#1.match.name').differs, false);

    // Pairs are the two-way comparison, unchanged: base vs each other session.
    assert.equal(c.pairs.length, 2);
    assert.deepEqual(c.pairs[0], compareSessions(readers[0]!, readers[1]!));
    const energy = c.pairs[0]!.tasks.find((t) => t.name === 'energy')!;
    assert.deepEqual([energy.resultA, energy.resultB, energy.resultDiff?.maxAbsDiff], ['{"e":-1}', '{"e":-2}', 1]);
    assert.equal(c.pairs[1]!.tasks.find((t) => t.name === 'energy')!.stateB, 'FAILED');

    const text = formatMultiComparison(c, formatComparison);
    assert.match(text, /^3 sessions against base: \d+ of \d+ values differ/);
    assert.match(text, /backends\s+slurm\.maxNodes\s+1\s+2 \(\+1\)\s+-/);
    assert.match(text, /base \(4 tasks\) vs local-only \(4 tasks\)/);

    assert.throws(() => compareManySessions(readers.slice(0, 1)), /compare takes 2 to 8 sessions \(got 1\)/);
  } finally {
    for (const r of readers) r.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flatten keeps user keys as Map keys, arrays indexed, empty values as leaves', () => {
  const m = flatten({ a: { __proto__: 1, b: [1, { c: 'x' }] }, e: {}, f: [] }, '');
  assert.deepEqual(
    [...m],
    [
      ['a.b[0]', 1],
      ['a.b[1].c', 'x'],
      ['e', {}],
      ['f', []],
    ],
  );
  const hostile = flatten(JSON.parse('{"__proto__": {"polluted": 1}, "constructor": 2}'), '');
  assert.deepEqual(
    [...hostile],
    [
      ['__proto__.polluted', 1],
      ['constructor', 2],
    ],
  );
  assert.equal(({} as { polluted?: number }).polluted, undefined);
});

test('circuit re-runs with the same counts are the same result, whatever their durationMs; other counts still differ', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-cmp-circuits-'));
  const store = new SessionStore({ dir });
  const run = async (name: string, durations: number[], counts: Record<string, number>[]) => {
    const rec = store.record(name, { orreryVersion: 't' });
    durations.forEach((d, i) => {
      const id = `${name}-${i}`;
      rec.recordTaskSubmitted({ taskId: id, name: 'circuit', kind: 'task', functionHash: 'c', params: [i], ts: 1 });
      rec.recordTaskState(id, { state: 'FINISHED', ts: 2 });
      const value = { counts: counts[i], shots: 100, device: 'simulator', backend: 'simulator', durationMs: d };
      rec.recordResult(id, Buffer.from(JSON.stringify(value)), { contentType: 'json' });
    });
    await rec.close();
  };
  try {
    const same = { '00': 50, '11': 50 };
    await run('a', [1.5, 2.5], [same, same]);
    await run('b', [3.25, 0.5], [same, { '00': 10, '11': 90 }]);
    const ra = store.open('a');
    const rb = store.open('b');
    try {
      const [first, second] = compareSessions(ra, rb).tasks;
      assert.deepEqual(
        [first!.status, first!.result, first!.resultDetail],
        ['same', 'close', 'same counts and shots (run facts such as durationMs differ)'],
      );
      assert.deepEqual(
        [second!.status, second!.result, second!.resultDiff?.counts?.withinSamplingNoise],
        ['differs', 'differ', false],
      );
    } finally {
      ra.close();
      rb.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a circuit call is stored as data (its unset options included), so the comparison pairs circuits by their full parameters', async () => {
  const { describeTaskArgs } = await import('../../orchestrator/head/task-arguments.ts');
  const { encodeArgs } = await import('../../orchestrator/api/arguments.ts');
  const call = {
    source: 'OPENQASM 3.0;'.padEnd(400, ' '),
    params: { t0: 0.1, t3: 0.25 },
    shots: 8192,
    device: undefined,
  };
  const shown = describeTaskArgs({
    taskId: 'c1',
    name: 'circuit',
    kind: 'task',
    args: encodeArgs([call], 'circuit', [], []),
    options: { resources: {}, strategy: 'DEFAULT', maxRetries: 0, retryExceptions: false },
  });
  // The preview is cut (t3 is past its end); the stored params hold every value.
  assert.ok(!shown.preview.includes('0.2512345678901234'), shown.preview);
  assert.deepEqual(JSON.parse(JSON.stringify(shown.params)), [
    { source: call.source, params: call.params, shots: 8192 },
  ]);
});
