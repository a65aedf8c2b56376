/** IBM Quantum costs: the shipped price table, estimates before a job runs and costs from its metrics. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  costOfUsage,
  estimateIbmJob,
  loadIbmPriceTable,
  parseIbmPriceTable,
  rateOf,
  usageSeconds,
} from '../../backends/quantum/ibm/usage-cost.ts';
import { checkIbmQuantumConfig } from '../../backends/quantum/ibm/config.ts';

test('the table holds the published plan rates: $1.60/s Pay-As-You-Go ($96/min), Flex $72/min, Open free', () => {
  const t = loadIbmPriceTable();
  assert.match(t.source, /ibm\.com\/quantum\/pricing/);
  assert.equal(t.plans.get('pay-as-you-go')?.usdPerSecond, 1.6);
  assert.equal(t.plans.get('flex')?.usdPerSecond, 72 / 60);
  assert.equal(t.plans.get('open')?.usdPerSecond, 0);
});

test('an estimate is secondsPerJob + circuits x shots x secondsPerShot at the plan rate', () => {
  const t = loadIbmPriceTable();
  const rate = rateOf(t, 'pay-as-you-go')!;
  const e = estimateIbmJob(t, rate, 1, 1000);
  assert.equal(e.quantumSeconds, 2 + 1000 * 0.00025);
  assert.equal(e.costUsd, 3.6);
  assert.match(e.basis, /2\.25 s of QPU usage.*\$1\.6 per second/);
  assert.equal(estimateIbmJob(t, rate, 4, 1000).costUsd, Math.round((2 + 4 * 0.25) * 1.6 * 1e6) / 1e6);
  // A contract's own rate replaces the plan's.
  assert.equal(estimateIbmJob(t, rateOf(t, 'premium', 0.5)!, 1, 1000).costUsd, 1.125);
  assert.equal(rateOf(t, 'no-such-plan'), undefined);
});

test('the billed usage comes from usage.quantum_seconds, else bss.seconds, else usage.seconds', () => {
  assert.equal(usageSeconds({ usage: { quantum_seconds: 3, seconds: 5 }, bss: { seconds: 4 } }), 3);
  assert.equal(usageSeconds({ bss: { seconds: 4 }, usage: { seconds: 5 } }), 4);
  assert.equal(usageSeconds({ usage: { seconds: 5 } }), 5);
  assert.equal(usageSeconds({ timestamps: {} }), undefined);
  const t = loadIbmPriceTable();
  assert.equal(costOfUsage(t, rateOf(t, 'pay-as-you-go')!, 2).costUsd, 3.2);
});

test('a malformed table is refused, naming the field', () => {
  assert.throws(() => parseIbmPriceTable({ source: 's', asOf: 'd' }, 'x.json'), /x\.json: plans must map/);
  assert.throws(
    () => parseIbmPriceTable({ source: 's', asOf: 'd', plans: { p: { usdPerSecond: -1 } } }, 'x.json'),
    /plans\[p\]\.usdPerSecond/,
  );
  assert.throws(
    () => parseIbmPriceTable({ source: 's', asOf: 'd', plans: {}, estimate: {} }, 'x.json'),
    /estimate must be/,
  );
});

test('config: plan must be a plan of the table, usdPerSecond a rate >= 0', () => {
  const base = { name: 'ibm', kind: 'ibm-quantum', instanceCrn: 'crn:v1:x', apiKeySecret: 'k' };
  assert.equal(checkIbmQuantumConfig({ ...base, plan: 'flex' }).plan, 'flex');
  assert.throws(
    () => checkIbmQuantumConfig({ ...base, plan: 'gold' }),
    /backend ibm: plan must be one of pay-as-you-go, flex, premium, open \(got "gold"\)/,
  );
  assert.throws(() => checkIbmQuantumConfig({ ...base, usdPerSecond: -2 }), /usdPerSecond must be/);
});
