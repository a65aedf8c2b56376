/**
 * The AWS side of the braket backend: which credentials it uses (a keychain secret, or the SDK's
 * default chain), the Braket and S3 clients made with them, and how AWS failures become one clear
 * BackendError each: bad or expired credentials (naming where they came from, never their values),
 * missing permissions, throttling and server errors (retryable), unreachable endpoints.
 */
import { BraketClient } from '@aws-sdk/client-braket';
import { S3Client } from '@aws-sdk/client-s3';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { describeAwsCredentialSource, keychainAwsCredentials } from '../../transport/aws-credentials.ts';
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
  const credentials = config.credentialsSecret === undefined ? undefined : await keychainAwsCredentials(config.name, config.credentialsSecret, 'Braket');
  const common = { region: config.region, maxAttempts: MAX_ATTEMPTS, ...(credentials ? { credentials } : {}), ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
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

const EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken', 'TokenRefreshRequired']);
const INVALID = new Set([
  'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidAccessKeyId', 'SignatureDoesNotMatch',
  'InvalidSignatureException', 'IncompleteSignatureException', 'MissingAuthenticationTokenException', 'InvalidToken',
]);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied']);
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'TimeoutError']);

/** An AWS SDK error's name, HTTP status and message. */
interface AwsErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Whether an AWS error is worth trying again later (throttling, server side, network). */
export function isTransient(err: unknown): boolean {
  const e = err as AwsErrorLike;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return THROTTLED.has(e?.name ?? '') || status >= 500 || e?.$fault === 'server' || NETWORK.has(e?.code ?? '') || NETWORK.has(e?.name ?? '');
}

/**
 * Turns whatever an AWS call threw into a BackendError. `doing` says what was being done
 * (e.g. "GetDevice arn:..."), so the message reads "backend b: <doing> failed: ...".
 */
export function toBackendError(backend: string, access: Pick<AwsAccess, 'credentialSource'>, doing: string, err: unknown): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as AwsErrorLike;
  const name = e.name ?? 'Error';
  const detail = `${name}: ${e.message ?? String(err)}`;
  const source = access.credentialSource;
  if (EXPIRED.has(name)) {
    return new BackendError(backend, `${doing} failed: the AWS credentials from ${source} have expired (${detail}). Refresh them (aws sso login, or a new session token) and run again.`, false);
  }
  if (INVALID.has(name)) {
    return new BackendError(backend, `${doing} failed: AWS rejected the credentials from ${source} (${detail}). Check that the access key belongs to an active IAM user or role in this account and that the secret key matches it.`, false);
  }
  if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    return new BackendError(backend, `${doing} failed: no usable AWS credentials in ${source} (${e.message}). Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, run aws sso login, or give the backend a credentialsSecret.`, false);
  }
  if (DENIED.has(name)) {
    return new BackendError(backend, `${doing} failed: the credentials from ${source} are not allowed to do this (${detail}). Grant the braket:* actions and s3:GetObject/s3:PutObject on the results bucket (the AmazonBraketFullAccess policy covers both).`, false);
  }
  if (isTransient(err)) {
    return new BackendError(backend, `${doing} failed after ${MAX_ATTEMPTS} attempts: ${detail}. AWS is throttling or unavailable; the task can be retried.`, true);
  }
  return new BackendError(backend, `${doing} failed: ${detail}`, false);
}
