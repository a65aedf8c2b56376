import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIbmQuantumConfig } from '../../backends/quantum/ibm/config.ts';

const base = {
  name: 'ibm',
  kind: 'ibm-quantum',
  instanceCrn: 'crn:v1:bluemix:public:quantum-computing:us-east:a/x:y::',
  apiKeySecret: 'ibm-key',
};

test('a minimal config and a full one are accepted unchanged', () => {
  assert.deepEqual(checkIbmQuantumConfig({ ...base }), base);
  const full = {
    ...base,
    device: 'ibm_fez',
    url: 'https://eu-de.quantum.cloud.ibm.com/api',
    iamUrl: 'https://iam.cloud.ibm.com',
    maxConcurrentJobs: 2,
    pollIntervalMs: 500,
  };
  assert.deepEqual(checkIbmQuantumConfig(full), full);
});

test('each bad field gives a TypeError naming the field and what is allowed', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, name: '' }, /name must be a non-empty string/],
    [{ ...base, kind: 'braket' }, /kind must be 'ibm-quantum' \(got "braket"\)/],
    [{ ...base, instanceCrn: 'my-instance' }, /instanceCrn must be .*starting with 'crn:'/],
    [{ ...base, apiKeySecret: undefined }, /apiKeySecret must be .*orrery secrets set/],
    [{ ...base, device: 7 }, /device must be 'least_busy' or an IBM backend name/],
    [{ ...base, url: 'quantum.cloud.ibm.com' }, /url must be an http\(s\) URL/],
    [{ ...base, iamUrl: 'ftp://iam' }, /iamUrl must be an http\(s\) URL/],
    [{ ...base, maxConcurrentJobs: 0 }, /maxConcurrentJobs must be an integer >= 1 \(got 0\)/],
    [{ ...base, pollIntervalMs: -5 }, /pollIntervalMs must be a number of milliseconds >= 1/],
  ];
  for (const [config, message] of cases)
    assert.throws(
      () => checkIbmQuantumConfig(config),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(config),
    );
});

test('unknown keys are rejected with the list of allowed keys', () => {
  assert.throws(
    () => checkIbmQuantumConfig({ ...base, apiKey: 'plain-text-key' }),
    (e: unknown) =>
      e instanceof TypeError &&
      /unknown key apiKey for kind ibm-quantum; allowed: .*apiKeySecret/.test(e.message) &&
      !e.message.includes('plain-text-key'),
  );
});
