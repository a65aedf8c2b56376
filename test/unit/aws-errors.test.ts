/**
 * One AWS error classifier (backends/transport/aws-errors.ts) for the braket and sagemaker
 * backends: credentials named by source, never by value; throttling, quotas, server and network
 * failures retryable; the rest final.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendError } from '../../orchestrator/core/errors.ts';
import {
  awsBackendError,
  awsFailureKind,
  isRetryableAwsError,
  type AwsCallContext,
} from '../../backends/transport/aws-errors.ts';
import { describeAwsCredentialSource } from '../../backends/transport/aws-credentials.ts';
import { toBackendError as braketError } from '../../backends/quantum/braket/aws-access.ts';
import { toBackendError as sagemakerError } from '../../backends/sagemaker/aws-access.ts';
import { checkBraketConfig } from '../../backends/quantum/braket/config.ts';

const braketConfig = checkBraketConfig({
  name: 'aws',
  kind: 'braket',
  region: 'us-east-1',
  deviceArn: 'arn:aws:braket:::device/quantum-simulator/amazon/sv1',
  s3Bucket: 'amazon-braket-x',
});
const sagemakerConfig = { name: 'sm', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/R' };
const ctx: AwsCallContext = {
  backend: 'aws',
  credentialSource: 'the AWS profile lab',
  doing: 'CreateQuantumTask',
  attempts: 3,
  permissions: 'braket:*',
  quotaHint: 'Wait for running work.',
};

function awsError(name: string, status: number, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}
const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test('the credential source is described without values', () => {
  const env = { AWS_ACCESS_KEY_ID: 'AKIASECRETLOOKING', AWS_SECRET_ACCESS_KEY: 'shh' };
  assert.match(
    describeAwsCredentialSource(braketConfig, env),
    /environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
  );
  assert.doesNotMatch(describeAwsCredentialSource(braketConfig, env), /AKIASECRETLOOKING|shh/);
  assert.match(describeAwsCredentialSource(braketConfig, { AWS_PROFILE: 'lab' }), /AWS profile lab/);
  assert.match(
    describeAwsCredentialSource({ ...braketConfig, credentialsSecret: 'braket-keys' }, {}),
    /keychain secret braket-keys/,
  );
});

test('each failure has one kind, and only throttling, quotas, server and network failures are retryable', () => {
  const cases: [unknown, string, boolean][] = [
    [awsError('ThrottlingException', 400), 'throttled', true],
    [awsError('TooManyRequestsException', 429), 'throttled', true],
    [awsError('SlowDown', 503, 'server'), 'throttled', true],
    [awsError('ResourceLimitExceeded', 400), 'quota', true],
    [awsError('ServiceQuotaExceededException', 402), 'quota', true],
    [awsError('InternalServiceException', 500, 'server'), 'server', true],
    [awsError('ServiceUnavailable', 503, 'server'), 'server', true],
    [networkError('ECONNREFUSED'), 'network', true],
    [networkError('ETIMEDOUT'), 'network', true],
    [Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 'network', true],
    [awsError('ExpiredTokenException', 403), 'expired-credentials', false],
    [awsError('RequestExpired', 400), 'expired-credentials', false],
    [awsError('UnrecognizedClientException', 403), 'invalid-credentials', false],
    [awsError('SignatureDoesNotMatch', 403), 'invalid-credentials', false],
    [
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      'no-credentials',
      false,
    ],
    [awsError('AccessDeniedException', 403), 'access-denied', false],
    [awsError('ValidationException', 400), 'other', false],
    [new Error('anything'), 'other', false],
    [undefined, 'other', false],
  ];
  for (const [err, kind, retryable] of cases) {
    assert.equal(awsFailureKind(err), kind, String(err));
    assert.equal(isRetryableAwsError(err), retryable, String(err));
    assert.equal(awsBackendError(ctx, err).retryable, retryable, String(err));
  }
});

test("messages say what happened and what to do, naming the credential source and the service's permissions", () => {
  assert.match(
    awsBackendError(ctx, awsError('ExpiredTokenException', 403)).message,
    /^backend aws: CreateQuantumTask failed: the AWS credentials from the AWS profile lab have expired .*Refresh them/,
  );
  assert.match(
    awsBackendError(ctx, awsError('InvalidAccessKeyId', 403)).message,
    /AWS rejected the credentials from the AWS profile lab/,
  );
  assert.match(
    awsBackendError(ctx, Object.assign(new Error('none'), { name: 'CredentialsProviderError' })).message,
    /no usable AWS credentials in the AWS profile lab/,
  );
  assert.match(
    awsBackendError(ctx, awsError('AccessDeniedException', 403)).message,
    /not allowed to do this .*Grant braket:\*\.$/,
  );
  assert.match(
    awsBackendError(ctx, awsError('ThrottlingException', 400)).message,
    /failed after 3 attempts: ThrottlingException: .*throttling or unavailable; the task can be retried/,
  );
  assert.match(
    awsBackendError({ ...ctx, attempts: 1 }, networkError('ECONNRESET')).message,
    /CreateQuantumTask failed: Error: connect ECONNRESET/,
  );
  assert.match(
    awsBackendError(ctx, awsError('ResourceLimitExceeded', 400)).message,
    /ResourceLimitExceeded: .*Wait for running work\.$/,
  );
  const given = new BackendError('aws', 'already clear', false);
  assert.equal(awsBackendError(ctx, given), given);
});

test('braket and sagemaker classify alike, each with its own permissions, quota and special cases', () => {
  const access = { credentialSource: 'x' };
  for (const [name, status, fault, retryable] of [
    ['ThrottlingException', 400, 'client', true],
    ['ResourceLimitExceeded', 400, 'client', true],
    ['InternalServerError', 500, 'server', true],
    ['UnrecognizedClientException', 403, 'client', false],
  ] as const) {
    assert.equal(
      braketError('aws', access, 'CreateQuantumTask', awsError(name, status, fault)).retryable,
      retryable,
      `braket ${name}`,
    );
    assert.equal(
      sagemakerError(sagemakerConfig, 'x', 'CreateTrainingJob j', awsError(name, status, fault), 6).retryable,
      retryable,
      `sagemaker ${name}`,
    );
  }
  assert.match(
    braketError('aws', access, 'CreateQuantumTask', awsError('AccessDeniedException', 403)).message,
    /AmazonBraketFullAccess/,
  );
  assert.match(
    sagemakerError(sagemakerConfig, 'x', 'CreateTrainingJob j', awsError('AccessDeniedException', 403)).message,
    /iam:PassRole on arn:aws:iam::123456789012:role\/R/,
  );
  assert.match(
    sagemakerError(sagemakerConfig, 'x', 'CreateTrainingJob j', awsError('ResourceLimitExceeded', 400), 6).message,
    /failed after 6 attempts: ResourceLimitExceeded.*Service Quotas/,
  );
  assert.match(
    braketError('aws', access, 'CreateQuantumTask', awsError('ServiceQuotaExceededException', 402)).message,
    /failed: ServiceQuotaExceededException.*Braket quota/,
  );
  assert.match(
    braketError('aws', access, 'GetDevice d', awsError('ThrottlingException', 400)).message,
    /failed after 5 attempts/,
  );
  assert.match(
    sagemakerError(
      sagemakerConfig,
      'x',
      'DescribeTrainingJob j',
      Object.assign(new Error('Could not assume role arn:x'), { name: 'ValidationException' }),
    ).message,
    /cannot use the role .*Check roleArn/,
  );
  assert.equal(
    sagemakerError(
      sagemakerConfig,
      'x',
      'ListTrainingJobs',
      Object.assign(new Error('getaddrinfo ENOTFOUND api.sagemaker.us-east-9.amazonaws.com'), { code: 'ENOTFOUND' }),
    ).message.includes('region us-east-1 is not one SageMaker serves'),
    true,
  );
});
