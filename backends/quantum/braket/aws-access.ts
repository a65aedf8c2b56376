/**
 * The AWS side of the braket backend: which credentials it uses (a keychain secret, or the SDK's
 * default chain), the Braket and S3 clients made with them, and Braket's permissions and quota
 * in the messages of transport/aws-errors.ts, which classifies AWS failures.
 */
import { BraketClient } from '@aws-sdk/client-braket';
import { S3Client } from '@aws-sdk/client-s3';
import type { BackendError } from '../../../orchestrator/core/errors.ts';
import { describeAwsCredentialSource, keychainAwsCredentials } from '../../transport/aws-credentials.ts';
import { awsBackendError, awsFailureKind } from '../../transport/aws-errors.ts';
import type { BraketConfig } from './config.ts';

/** The clients of one run, and where their credentials come from (for error messages). */
export interface AwsAccess {
  readonly braket: BraketClient;
  readonly s3: S3Client;
  /** E.g. "the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY". */
  readonly credentialSource: string;
  /** Closes the clients' sockets. */
  close(): void;
}

/** Attempts per AWS call (the SDK retries throttling, 5xx and network errors with backoff in between). */
const MAX_ATTEMPTS = 5;

/** Makes the Braket and S3 clients of a backend. */
export async function openAws(config: BraketConfig): Promise<AwsAccess> {
  const credentials =
    config.credentialsSecret === undefined
      ? undefined
      : await keychainAwsCredentials(config.name, config.credentialsSecret, 'Braket');
  const common = {
    region: config.region,
    maxAttempts: MAX_ATTEMPTS,
    ...(credentials ? { credentials } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  };
  const braket = new BraketClient(common);
  // A custom endpoint serves every bucket under one host, so buckets go in the path.
  const s3 = new S3Client({ ...common, forcePathStyle: config.endpoint !== undefined });
  return {
    braket,
    s3,
    credentialSource: describeAwsCredentialSource(config),
    close: () => {
      braket.destroy();
      s3.destroy();
    },
  };
}

/**
 * Turns whatever an AWS call threw into a BackendError (transport/aws-errors.ts classifies it).
 * `doing` says what was being done (e.g. "GetDevice arn:..."), so the message reads
 * "backend b: <doing> failed: ...".
 */
export function toBackendError(
  backend: string,
  access: Pick<AwsAccess, 'credentialSource'>,
  doing: string,
  err: unknown,
): BackendError {
  return awsBackendError(
    {
      backend,
      credentialSource: access.credentialSource,
      doing,
      // The SDK repeats throttling, server and network failures; anything else was one attempt.
      attempts: ['throttled', 'server', 'network'].includes(awsFailureKind(err)) ? MAX_ATTEMPTS : 1,
      permissions:
        'the braket:* actions and s3:GetObject/s3:PutObject on the results bucket (the AmazonBraketFullAccess policy covers both)',
      quotaHint:
        "The account's Braket quota is used up; wait for queued tasks, lower maxConcurrentTasks, or request more through Service Quotas.",
    },
    err,
  );
}
