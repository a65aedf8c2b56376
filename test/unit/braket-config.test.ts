/** checkBraketConfig: accepted configs, and errors that name the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBraketConfig } from '../../backends/quantum/braket/config.ts';

const base = {
  name: 'aws',
  kind: 'braket',
  region: 'us-east-1',
  deviceArn: 'arn:aws:braket:::device/quantum-simulator/amazon/sv1',
  s3Bucket: 'amazon-braket-results',
};

test('a minimal config and a full one are accepted as given', () => {
  assert.deepEqual(checkBraketConfig({ ...base }), base);
  const full = {
    ...base,
    deviceArn: 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1',
    s3Prefix: 'runs/2025',
    endpoint: 'http://127.0.0.1:4566',
    maxConcurrentTasks: 3,
    pollIntervalMs: 250,
    credentialsSecret: 'aws-braket',
  };
  assert.deepEqual(checkBraketConfig(full), full);
});

test('unknown keys are rejected by name', () => {
  assert.throws(
    () => checkBraketConfig({ ...base, bucket: 'x' }),
    (e: unknown) => e instanceof TypeError && /unknown key bucket/.test(e.message) && /s3Bucket/.test(e.message),
  );
});

test('each bad field is named in the error', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, name: '' }, /name must be a non-empty string/],
    [{ ...base, kind: 'ibm-quantum' }, /kind must be 'braket'/],
    [{ ...base, region: 'virginia' }, /region must be an AWS region/],
    [{ ...base, region: undefined }, /region must be/],
    [{ ...base, deviceArn: 'sv1' }, /deviceArn must be a Braket device ARN/],
    [{ ...base, deviceArn: 'arn:aws:s3:::bucket' }, /deviceArn must be/],
    [{ ...base, s3Bucket: 's3://amazon-braket-results' }, /s3Bucket must be an S3 bucket name/],
    [{ ...base, s3Prefix: '/abs' }, /s3Prefix must be a key prefix/],
    [{ ...base, endpoint: 'localhost:4566' }, /endpoint must be an http\(s\) URL/],
    [{ ...base, maxConcurrentTasks: 0 }, /maxConcurrentTasks must be an integer >= 1/],
    [{ ...base, pollIntervalMs: -5 }, /pollIntervalMs must be a number of milliseconds/],
    [{ ...base, credentialsSecret: '' }, /credentialsSecret must be the name of a keychain secret/],
  ];
  for (const [config, message] of cases)
    assert.throws(
      () => checkBraketConfig(config),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(config),
    );
});
