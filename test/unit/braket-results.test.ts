/** results.json (GateModelTaskResult v1) -> counts over the circuit's clbits, Qiskit order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Circuit, Operation } from '../../backends/quantum/circuit.ts';
import {
  BraketResultFormatError,
  clbitSources,
  countsFromResult,
  MidCircuitMeasurementError,
  parseTaskResult,
  type GateModelTaskResult,
} from '../../backends/quantum/braket/task-results.ts';

const h = (q: number): Operation => ({ kind: 'gate', name: 'h', qubits: [q], params: [] });
const m = (qubit: number, clbit: number): Operation => ({ kind: 'measure', qubit, clbit });

/** qreg q[3]; creg a[2]; creg b[1]; measure q[2] -> a[0]; measure q[0] -> b[0]; (a[1] never measured). */
const twoRegisters: Circuit = {
  numQubits: 3,
  numClbits: 3,
  qregs: [{ name: 'q', size: 3, offset: 0 }],
  cregs: [
    { name: 'a', size: 2, offset: 0 },
    { name: 'b', size: 1, offset: 2 },
  ],
  ops: [h(0), h(2), m(2, 0), m(0, 2)],
};

function result(measuredQubits: number[] | undefined, rows: number[][]): GateModelTaskResult {
  return {
    braketSchemaHeader: { name: 'braket.task_result.gate_model_task_result', version: '1' },
    measurements: rows,
    ...(measuredQubits ? { measuredQubits } : {}),
    taskMetadata: { id: 'arn:task', shots: rows.length, deviceId: 'arn:device' },
  };
}

test('several registers with partial measurement: each clbit reads the qubit measured into it, unmeasured clbits are 0', () => {
  // columns: q0, q2. Expected keys written by hand as b[0] a[1] a[0] = q0 0 q2.
  const counts = countsFromResult(
    result(
      [0, 2],
      [
        [1, 0],
        [0, 1],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ),
    twoRegisters,
  );
  assert.deepEqual(counts, { '100': 1, '001': 1, '101': 2, '000': 1 });
});

test('the order of measuredQubits is honoured (columns may come in any qubit order)', () => {
  // the same shots as above with the columns swapped: q2 first, then q0
  const counts = countsFromResult(
    result(
      [2, 0],
      [
        [0, 1],
        [1, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ),
    twoRegisters,
  );
  assert.deepEqual(counts, { '100': 1, '001': 1, '101': 2, '000': 1 });
});

test('one qubit measured into two clbits gives both the same value', () => {
  const c: Circuit = {
    numQubits: 2,
    numClbits: 2,
    qregs: [{ name: 'q', size: 2, offset: 0 }],
    cregs: [{ name: 'c', size: 2, offset: 0 }],
    ops: [h(1), m(1, 0), m(1, 1)],
  };
  assert.deepEqual(countsFromResult(result([1], [[0], [1], [1]]), c), { '00': 1, '11': 2 });
});

test('a clbit measured twice keeps the last measurement', () => {
  const c: Circuit = {
    numQubits: 2,
    numClbits: 1,
    qregs: [{ name: 'q', size: 2, offset: 0 }],
    cregs: [{ name: 'c', size: 1, offset: 0 }],
    ops: [m(0, 0), m(1, 0)],
  };
  assert.deepEqual(clbitSources(c), [1]);
  assert.deepEqual(
    countsFromResult(
      result(
        [0, 1],
        [
          [0, 1],
          [1, 0],
        ],
      ),
      c,
    ),
    { '1': 1, '0': 1 },
  );
});

test('measurementProbabilities (big-endian over measuredQubits) become counts of shots', () => {
  const c: Circuit = {
    numQubits: 2,
    numClbits: 2,
    qregs: [{ name: 'q', size: 2, offset: 0 }],
    cregs: [{ name: 'c', size: 2, offset: 0 }],
    ops: [m(0, 0), m(1, 1)],
  };
  const r: GateModelTaskResult = {
    braketSchemaHeader: { name: 'braket.task_result.gate_model_task_result', version: '1' },
    measurementProbabilities: { '10': 0.25, '01': 0.75 },
    measuredQubits: [0, 1],
    taskMetadata: { id: 't', shots: 100, deviceId: 'd' },
  };
  // '10' = q0 1, q1 0 -> c0 = 1 -> key '01'
  assert.deepEqual(countsFromResult(r, c), { '01': 25, '10': 75 });
});

test('without measuredQubits the columns are qubits 0..n-1', () => {
  const c: Circuit = {
    numQubits: 2,
    numClbits: 2,
    qregs: [{ name: 'q', size: 2, offset: 0 }],
    cregs: [{ name: 'c', size: 2, offset: 0 }],
    ops: [m(1, 0), m(0, 1)],
  };
  assert.deepEqual(countsFromResult(result(undefined, [[1, 0]]), c), { '10': 1 });
});

test('a qubit used after its measurement is refused (Braket measures once, at the end)', () => {
  const c: Circuit = {
    numQubits: 1,
    numClbits: 2,
    qregs: [{ name: 'q', size: 1, offset: 0 }],
    cregs: [{ name: 'c', size: 2, offset: 0 }],
    ops: [m(0, 0), h(0), m(0, 1)],
  };
  assert.throws(
    () => clbitSources(c),
    (e: unknown) =>
      e instanceof MidCircuitMeasurementError &&
      e.qubit === 0 &&
      /qubit 0 is used after it was measured/.test(e.message),
  );
});

test('results that lack a measured qubit, or rows of the wrong width, are format errors', () => {
  assert.throws(
    () => countsFromResult(result([0], [[1]]), twoRegisters),
    (e: unknown) => e instanceof BraketResultFormatError && /qubit 2 into clbit 0/.test(e.message),
  );
  assert.throws(() => countsFromResult(result([0, 2], [[1, 0, 1]]), twoRegisters), BraketResultFormatError);
});

test('parseTaskResult checks the schema header and the presence of measurements', () => {
  const good = JSON.stringify(result([0], [[1]]));
  assert.deepEqual(parseTaskResult(good).measuredQubits, [0]);
  assert.throws(() => parseTaskResult('{'), /not JSON/);
  assert.throws(
    () =>
      parseTaskResult(
        JSON.stringify({
          ...result([0], [[1]]),
          braketSchemaHeader: { name: 'braket.task_result.annealing_task_result', version: '1' },
        }),
      ),
    /annealing_task_result/,
  );
  assert.throws(
    () =>
      parseTaskResult(
        JSON.stringify({
          braketSchemaHeader: { name: 'braket.task_result.gate_model_task_result', version: '1' },
          taskMetadata: { id: 'x', shots: 1, deviceId: 'd' },
        }),
      ),
    /neither measurements/,
  );
});
