import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chiSquareSurvival,
  compareCounts,
  diffResults,
  previewValue,
} from '../../orchestrator/sessions/result-diff.ts';

const tol = { relTol: 1e-9, absTol: 1e-12 };

test('chiSquareSurvival matches tabulated critical values', () => {
  for (const [x, df, p] of [
    [3.841, 1, 0.05],
    [5.991, 2, 0.05],
    [6.635, 1, 0.01],
    [124.342, 100, 0.05],
  ] as const)
    assert.ok(Math.abs(chiSquareSurvival(x, df) - p) < 2e-4, `χ²(${x}, ${df})`);
});

test('counts that differ by sampling noise read as such; a shifted distribution does not', () => {
  const noise = compareCounts(
    'counts',
    new Map([
      ['00', 1000],
      ['11', 1000],
    ]),
    new Map([
      ['00', 1030],
      ['11', 970],
    ]),
  );
  assert.equal(noise.withinSamplingNoise, true);
  assert.equal(noise.changedKeys, 2);
  assert.ok(Math.abs(noise.tvd - 0.015) < 1e-12);
  assert.deepEqual(noise.changed[0], { key: '00', a: 1000, b: 1030 });
  const shifted = compareCounts(
    'counts',
    new Map([
      ['00', 1000],
      ['11', 1000],
    ]),
    new Map([
      ['00', 1300],
      ['11', 700],
    ]),
  );
  assert.equal(shifted.withinSamplingNoise, false);
  assert.ok(shifted.pValue! < 1e-10);
  const disjoint = compareCounts('(value)', new Map([['01', 10]]), new Map([['10', 10]]));
  assert.deepEqual([disjoint.onlyInA, disjoint.onlyInB, disjoint.tvd], [1, 1, 1]);
  const empty = compareCounts('(value)', new Map([['01', 0]]), new Map([['01', 5]]));
  assert.equal(empty.pValue, null);
  assert.equal(empty.withinSamplingNoise, false);
});

test('diffResults: absolute and relative size, differing fields, and counts inside a circuit result', () => {
  assert.deepEqual(diffResults(3, 4.5, tol), { path: '(value)', maxAbsDiff: 1.5, maxRelDiff: 1 / 3, fields: [] });
  const circuitA = { counts: { '00': 510, '11': 490 }, shots: 1000, device: 'simulator', durationMs: 3 };
  const circuitB = { counts: { '00': 490, '11': 510 }, shots: 1000, device: 'simulator', durationMs: 4 };
  const d = diffResults(circuitA, circuitB, tol);
  assert.deepEqual(d.fields, ['counts', 'durationMs']);
  assert.equal(d.counts?.path, 'counts');
  assert.equal(d.counts?.withinSamplingNoise, true);
  // Not a histogram: keys are not measurement outcomes.
  assert.equal(diffResults({ a: 1 }, { a: 2 }, tol).counts, undefined);
});

test('previewValue: short, readable typed arrays and Maps', () => {
  assert.equal(previewValue(new Float64Array([1, 2])), '[1,2]');
  assert.equal(previewValue(new Map([['k', 1n]])), '{"k":"1n"}');
  assert.equal(previewValue('x'.repeat(500)).length, 160);
  assert.ok(previewValue('x'.repeat(500)).endsWith('…'));
});
