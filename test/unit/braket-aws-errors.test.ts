/** How AWS failures become BackendErrors: credentials named by source, never by value; transient ones retryable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { isTransient, toBackendError } from '../../backends/quantum/braket/aws-access.ts';
import { describeAwsCredentialSource as describeCredentialSource } from '../../backends/transport/aws-credentials.ts';
import { checkBraketConfig } from '../../backends/quantum/braket/config.ts';

const config = checkBraketConfig({ name: 'aws', kind: 'braket', region: 'us-east-1', deviceArn: 'arn:aws:braket:::device/quantum-simulator/amazon/sv1', s3Bucket: 'amazon-braket-x' });

function awsError(name: string, status: number, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

test('the credential source is described without values', () => {
  assert.match(describeCredentialSource(config, { AWS_ACCESS_KEY_ID: 'AKIASECRETLOOKING', AWS_SECRET_ACCESS_KEY: 'shh' }), /environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  assert.doesNotMatch(describeCredentialSource(config, { AWS_ACCESS_KEY_ID: 'AKIASECRETLOOKING', AWS_SECRET_ACCESS_KEY: 'shh' }), /AKIASECRETLOOKING|shh/);
  assert.match(describeCredentialSource(config, { AWS_PROFILE: 'lab' }), /AWS profile lab/);
  assert.match(describeCredentialSource({ ...config, credentialsSecret: 'braket-keys' }, {}), /keychain secret braket-keys/);
});

test('expired and unknown credentials give one clear, non-retryable error naming the source', () => {
  const access = { credentialSource: 'the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' };
  const expired = toBackendError('aws', access, 'GetDevice x', awsError('ExpiredTokenException', 403));
  assert.ok(expired instanceof BackendError && !expired.retryable);
  assert.match(expired.message, /credentials from the environment variables .* have expired .* Refresh them/);
  const unknown = toBackendError('aws', access, 'GetDevice x', awsError('UnrecognizedClientException', 403));
  assert.match(unknown.message, /AWS rejected the credentials from the environment variables/);
  assert.equal(unknown.retryable, false);
  assert.match(toBackendError('aws', access, 'GetObject', awsError('InvalidAccessKeyId', 403)).message, /rejected the credentials/);
  assert.match(toBackendError('aws', access, 'GetDevice', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })).message, /no usable AWS credentials/);
});

test('throttling and server errors are retryable; validation is not', () => {
  const access = { credentialSource: 'x' };
  assert.ok(isTransient(awsError('ThrottlingException', 429)));
  assert.ok(isTransient(awsError('InternalServiceException', 500, 'server')));
  assert.ok(isTransient(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  assert.equal(toBackendError('aws', access, 'CreateQuantumTask', awsError('ThrottlingException', 429)).retryable, true);
  assert.equal(toBackendError('aws', access, 'CreateQuantumTask', awsError('ServiceUnavailable', 503, 'server')).retryable, true);
  assert.equal(toBackendError('aws', access, 'CreateQuantumTask', awsError('ValidationException', 400)).retryable, false);
  assert.match(toBackendError('aws', access, 'CreateQuantumTask', awsError('AccessDeniedException', 403)).message, /not allowed/);
});
