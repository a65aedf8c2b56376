import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkEstimates, estimatorShots } from '../../backends/quantum/ibm/estimator-batch.ts';
import { CircuitBatcher } from '../../backends/quantum/batching/circuit-batcher.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import { parseObservables } from '../../backends/quantum/observables.ts';
import type { EstimatorRun } from '../../backends/quantum/estimator-run.ts';
import type { CircuitRun } from '../../backends/quantum/run-types.ts';

const task = (name: string, observables: number, more: { shots?: number; precision?: number }) => ({
  name,
  run: { observables: new Array(observables).fill(null), ...more } as unknown as EstimatorRun,
});

test('shots per observable: the task shots, else 1/precision² rounded up, else the service default precision', () => {
  assert.equal(estimatorShots({ shots: 300 }), 300);
  assert.equal(estimatorShots({ precision: 0.01 }), 10_000);
  assert.equal(estimatorShots({}), 4096);
});

test('Estimator PUBs share a job whatever their precision, split by default_shots and by executions (shots x observables)', () => {
  const chunks = chunkEstimates(
    [
      task('a', 2, { shots: 1000 }),
      task('p1', 1, { precision: 0.02 }),
      task('b', 2, { shots: 1000 }),
      task('c', 1, { shots: 500 }),
      task('p2', 1, { precision: 0.05 }),
      task('d', 2, { shots: 1000 }),
    ],
    4000,
  );
  assert.deepEqual(
    chunks.map((c) => c.map((t) => t.name)),
    [['a', 'b'], ['d'], ['p1', 'p2'], ['c']],
  );
  // A lone PUB over the limit still gets a job (the service names the limit).
  assert.deepEqual(
    chunkEstimates([task('big', 3, { shots: 5000 })], 4000).map((c) => c.length),
    [1],
  );
});

test('the batcher keeps Estimator and circuit tasks of one device in separate batches', async () => {
  const sampler: number[] = [];
  const estimates: number[] = [];
  const batcher = new CircuitBatcher(
    async (runs) => {
      sampler.push(runs.length);
      return runs.map(() => ({ counts: {}, shots: 1, device: 'd', backend: 'b', durationMs: 0 }));
    },
    20,
    5,
  ).withEstimates(async (runs) => {
    estimates.push(runs.length);
    return runs.map(() => ({ values: [0], stds: [0], device: 'd', backend: 'b', durationMs: 0 }));
  });
  const circuit = parseQasm('OPENQASM 3.0;\nqubit[1] q;\nbit[1] c;\nc[0] = measure q[0];\n');
  const base = { circuit, source: '', device: undefined, signal: new AbortController().signal, report() {}, log() {} };
  const c: CircuitRun = { ...base, shots: 10 };
  const e: EstimatorRun = { ...base, observables: parseObservables(['Z'], 1) };
  await Promise.all([
    batcher.submit(c),
    batcher.estimate(e),
    batcher.submit(c),
    batcher.estimate(e),
    batcher.estimate(e),
  ]);
  assert.deepEqual(sampler, [2]);
  assert.deepEqual(estimates, [3]);
  await assert.rejects(new CircuitBatcher(async () => [], 20, 5).estimate(e), /circuits only/);
});
