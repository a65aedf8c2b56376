import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  estimatorJobRequest,
  isaObservables,
  readEstimatorResults,
} from '../../backends/quantum/ibm/estimator-pubs.ts';
import { parseObservables } from '../../backends/quantum/observables.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';

const input = {
  qasm: 'OPENQASM 3.0;',
  observables: parseObservables(['XZ', { ZZ: 0.5, YI: -1 }], 2),
  finalLayout: [4, 2],
  deviceQubits: 5,
};

test('observables become ISA mappings over the device qubits through the final layout', () => {
  // virtual 0 -> physical 4, virtual 1 -> physical 2 (qubit 0 rightmost).
  assert.deepEqual(
    isaObservables(input).map((o) => ({ ...o })),
    [{ ZIXII: 1 }, { ZIZII: 0.5, IIYII: -1 }],
  );
});

test('the job body: one PUB, precision as its fourth entry, shots as options.default_shots', () => {
  const withPrecision = estimatorJobRequest('ibm_x', { ...input, precision: 0.01 });
  assert.equal(withPrecision.program_id, 'estimator');
  assert.equal(withPrecision.params.version, 2);
  assert.equal(withPrecision.params.pubs.length, 1);
  assert.deepEqual(withPrecision.params.pubs[0]!.slice(2), [null, 0.01]);
  assert.equal(withPrecision.params.options, undefined);
  const withShots = estimatorJobRequest('ibm_x', { ...input, shots: 2000 });
  assert.equal(withShots.params.pubs[0]!.length, 2);
  assert.deepEqual(withShots.params.options, { default_shots: 2000 });
});

test('results: evs and stds per observable; missing or malformed ones fail naming the job', () => {
  assert.deepEqual(readEstimatorResults('ibm', 'j1', { results: [{ data: { evs: [0.5, -1], stds: [0.01, 0] } }] }, 2), {
    values: [0.5, -1],
    stds: [0.01, 0],
  });
  assert.deepEqual(readEstimatorResults('ibm', 'j1', { results: [{ data: { evs: 0.25, stds: 0.02 } }] }, 1), {
    values: [0.25],
    stds: [0.02],
  });
  for (const bad of [
    {},
    { results: [{ data: { evs: [1] } }] },
    { results: [{ data: { evs: [1, 'x'], stds: [0, 0] } }] },
  ])
    assert.throws(
      () => readEstimatorResults('ibm', 'j1', bad, 2),
      (e: Error) =>
        e instanceof BackendError && /job j1 returned no evs\/stds for 2 observable\(s\) in PUB 0/.test(e.message),
    );
});
