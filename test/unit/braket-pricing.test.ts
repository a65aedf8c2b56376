/** The shipped Braket price table and the estimates made from it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateCost, loadPriceTable, parsePriceTable } from '../../backends/quantum/braket/pricing.ts';

// Published on https://aws.amazon.com/braket/pricing/ (the table's source), written out here independently.
const FORTE = 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1';
const ARIA = 'arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1';
const GARNET = 'arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet';
const ANKAA = 'arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3';
const AQUILA = 'arn:aws:braket:us-east-1::device/qpu/quera/Aquila';
const SV1 = 'arn:aws:braket:::device/quantum-simulator/amazon/sv1';
const TN1 = 'arn:aws:braket:::device/quantum-simulator/amazon/tn1';

test('the table names its source and date and lists the QPUs and simulators', () => {
  const t = loadPriceTable();
  assert.match(t.source, /^https:\/\/aws\.amazon\.com\/braket\/pricing/);
  assert.match(t.asOf, /^\d{4}-\d{2}-\d{2}$/);
  for (const arn of [FORTE, ARIA, GARNET, ANKAA, AQUILA, SV1, TN1]) assert.ok(t.devices[arn], arn);
});

test('QPU tasks cost $0.30 per task plus the per-shot price of the family', () => {
  const t = loadPriceTable();
  const cases: [string, number, number][] = [
    [FORTE, 1000, 0.3 + 1000 * 0.08],
    [ARIA, 100, 0.3 + 100 * 0.03],
    [GARNET, 1000, 0.3 + 1000 * 0.00145],
    [ANKAA, 1000, 0.3 + 1000 * 0.0009],
    [AQUILA, 100, 0.3 + 100 * 0.01],
  ];
  for (const [arn, shots, expected] of cases) {
    const e = estimateCost(t, arn, shots)!;
    assert.ok(Math.abs(e.costUsd - expected) < 1e-9, `${arn}: ${e.costUsd} != ${expected}`);
    assert.match(e.basis, /per task/);
  }
});

test('simulators are billed per minute with a 3 s minimum; the estimate uses the run time once known', () => {
  const t = loadPriceTable();
  assert.equal(estimateCost(t, SV1, 1000)!.costUsd, 0.00375); // 3 s of $0.075/min
  assert.equal(estimateCost(t, SV1, 1000, 1200)!.costUsd, 0.00375); // 1.2 s is billed as 3 s
  assert.equal(estimateCost(t, SV1, 1000, 120_000)!.costUsd, 0.15); // 2 min
  assert.equal(estimateCost(t, TN1, 10, 60_000)!.costUsd, 0.275);
});

test('a device the table does not know has no estimate', () => {
  assert.equal(estimateCost(loadPriceTable(), 'arn:aws:braket:us-east-1::device/qpu/acme/New-1', 100), undefined);
});

test('a malformed table is refused with the device named', () => {
  assert.throws(
    () => parsePriceTable({ source: 's', asOf: 'a', devices: { x: { billing: 'per-shot', perTaskUsd: 0.3 } } }, 'file'),
    /devices\[x\]/,
  );
  assert.throws(() => parsePriceTable({ devices: {} }, 'file'), /source, asOf and devices/);
});
