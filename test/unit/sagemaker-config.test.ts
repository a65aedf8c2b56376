/** Validation of sagemaker backend configs: each bad field is named with what is allowed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseS3Uri, validateSageMakerConfig } from '../../backends/sagemaker/config.ts';
import { createSageMakerBackend } from '../../backends/sagemaker/index.ts';

const GOOD = {
  name: 'sm',
  kind: 'sagemaker',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::123456789012:role/service-role/SageMakerExecution',
  s3Prefix: 's3://my-bucket/orrery/runs',
  instanceType: 'ml.g5.xlarge',
};

function rejects(patch: Record<string, unknown>, field: RegExp): void {
  assert.throws(
    () => validateSageMakerConfig({ ...GOOD, ...patch }),
    (e: unknown) => e instanceof TypeError && field.test(e.message),
    JSON.stringify(patch),
  );
}

test('a complete config is accepted as given', () => {
  const full = {
    ...GOOD,
    instanceCount: 2,
    volumeSizeGb: 100,
    maxRuntimeS: 3600,
    spot: { maxWaitS: 7200, checkpointS3Uri: 's3://my-bucket/ckpt' },
    maxConcurrentJobs: 3,
    endpoint: 'http://127.0.0.1:4566',
    credentialsSecret: 'aws-research',
    pollIntervalMs: 50,
  };
  assert.deepEqual(validateSageMakerConfig(full), full);
  assert.deepEqual(validateSageMakerConfig({ ...GOOD, spot: true, profile: 'research-sso' }), {
    ...GOOD,
    spot: true,
    profile: 'research-sso',
  });
});

test('each required field is named when missing or malformed', () => {
  rejects({ region: undefined }, /backend sm: region must be an AWS region/);
  rejects({ region: 'useast1' }, /region must be/);
  rejects({ roleArn: undefined }, /roleArn must be the ARN of an IAM role/);
  rejects({ roleArn: 'arn:aws:iam::123:role/x' }, /roleArn must be/);
  rejects({ roleArn: 'arn:aws:iam::123456789012:user/bob' }, /roleArn must be/);
  rejects({ s3Prefix: 'my-bucket/prefix' }, /s3Prefix must be an S3 URI/);
  rejects({ s3Prefix: undefined }, /s3Prefix must be/);
  rejects({ instanceType: 'ml.z9.huge' }, /instanceType must be one of .*ml\.g5\.xlarge/);
  rejects({ kind: 'slurm' }, /kind must be 'sagemaker'/);
  rejects({ name: '' }, /name must be a non-empty string/);
});

test('numbers, spot, endpoint, secrets and unknown keys are checked', () => {
  rejects({ instanceCount: 0 }, /instanceCount must be an integer from 1/);
  rejects({ instanceCount: 1.5 }, /instanceCount must be an integer/);
  rejects({ volumeSizeGb: -1 }, /volumeSizeGb must be/);
  rejects({ maxRuntimeS: '3600' }, /maxRuntimeS must be/);
  rejects({ maxConcurrentJobs: 0 }, /maxConcurrentJobs must be/);
  rejects({ spot: 'yes' }, /spot must be true, false or/);
  rejects({ spot: { maxWait: 10 } }, /spot must be/);
  rejects({ maxRuntimeS: 3600, spot: { maxWaitS: 1800 } }, /maxWaitS .* at least maxRuntimeS \(3600\)/);
  rejects({ spot: { checkpointS3Uri: 'ckpt' } }, /checkpointS3Uri is an S3 URI/);
  rejects({ endpoint: 'localhost:4566' }, /endpoint must be a URL/);
  rejects({ credentialsSecret: 'has space' }, /credentialsSecret must be the name of a keychain secret/);
  rejects({ credentialsSecret: 'a', profile: 'b' }, /either profile or credentialsSecret/);
  rejects({ hosts: ['x'] }, /unknown key hosts for kind sagemaker; allowed: .*roleArn/);
  assert.throws(() => validateSageMakerConfig(null), /must be an object/);
});

test('the factory validates before making a backend', () => {
  assert.throws(() => createSageMakerBackend({ ...GOOD, roleArn: 'nope' }), /roleArn/);
  const b = createSageMakerBackend({ ...GOOD });
  assert.equal(b.name, 'sm');
  assert.equal(b.kind, 'sagemaker');
  assert.ok(b.elastic);
});

test('S3 URIs split into bucket and a prefix without edge slashes', () => {
  assert.deepEqual(parseS3Uri('s3://bucket-1/a/b/'), { bucket: 'bucket-1', prefix: 'a/b' });
  assert.deepEqual(parseS3Uri('s3://bucket-1'), { bucket: 'bucket-1', prefix: '' });
  assert.equal(parseS3Uri('https://bucket/x'), undefined);
  assert.equal(parseS3Uri('s3://UPPER/x'), undefined);
});
