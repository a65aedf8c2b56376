import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkQubits, chooseDevice } from '../../backends/quantum/ibm/device-choice.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';

const dev = (name: string, qubits: number, queue: number, status = 'online', sim = false) => ({
  name,
  qubits,
  queue_length: queue,
  status: { name: status },
  is_simulator: sim,
});
const devices = [
  dev('ibm_small', 5, 1),
  dev('ibm_mid', 27, 4),
  dev('ibm_big', 127, 9),
  dev('ibm_paused', 127, 0, 'paused'),
  dev('ibm_sim', 32, 0, 'online', true),
];

test('least_busy takes the online hardware device with enough qubits and the fewest pending jobs', () => {
  assert.equal(chooseDevice('ibm', devices, 'least_busy', 2), 'ibm_small');
  assert.equal(chooseDevice('ibm', devices, 'least_busy', 6), 'ibm_mid');
  assert.equal(chooseDevice('ibm', devices, 'least_busy', 100), 'ibm_big');
});

test('least_busy with no device large enough lists the devices', () => {
  assert.throws(
    () => chooseDevice('ibm', devices, 'least_busy', 200),
    (e: unknown) =>
      e instanceof BackendError &&
      !e.retryable &&
      /200 qubits/.test(e.message) &&
      /ibm_big \(127 qubits, online, 9 pending jobs\)/.test(e.message),
  );
});

test('a named device is used as given; an unknown one is an error listing the available ones', () => {
  assert.equal(chooseDevice('ibm', devices, 'ibm_paused', 2), 'ibm_paused');
  assert.throws(
    () => chooseDevice('ibm', devices, 'ibm_nowhere', 2),
    (e: unknown) =>
      e instanceof BackendError &&
      !e.retryable &&
      /device ibm_nowhere is not available/.test(e.message) &&
      devices.every((d) => e.message.includes(d.name)),
  );
});

test('checkQubits says how many qubits the circuit needs and the device has', () => {
  assert.doesNotThrow(() => checkQubits('ibm', 'ibm_small', 5, 5));
  assert.throws(
    () => checkQubits('ibm', 'ibm_small', 5, 6),
    (e: unknown) => e instanceof BackendError && /circuit needs 6 qubits; ibm_small has 5/.test(e.message),
  );
});
