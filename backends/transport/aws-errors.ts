/**
 * How an AWS failure is classified, for every AWS-backed backend (braket, sagemaker): one rule
 * set for what is worth repeating, and one BackendError per kind of failure, naming where the
 * credentials came from (aws-credentials.ts), never their values. A backend adds its own
 * special cases (a role SageMaker cannot assume, a Braket device of another region) before
 * falling back to {@link awsBackendError}.
 */
import { BackendError } from '../../orchestrator/core/errors.ts';

/** What kind of failure an AWS call ended in. */
export type AwsFailureKind =
  /** The credentials were valid once but have expired (session tokens, SSO). Not retryable. */
  | 'expired-credentials'
  /** AWS does not know the key, or the signature does not match. Not retryable. */
  | 'invalid-credentials'
  /** The SDK found no credentials at all. Not retryable. */
  | 'no-credentials'
  /** The credentials work but may not do this. Not retryable. */
  | 'access-denied'
  /** The request rate is over the API's limit. Retryable. */
  | 'throttled'
  /** An account quota is used up (concurrent jobs or tasks); frees up as work ends. Retryable. */
  | 'quota'
  /** A 5xx: the service failed. Retryable. */
  | 'server'
  /** The endpoint could not be reached or timed out. Retryable. */
  | 'network'
  /** Anything else (validation, not found): the request itself is wrong. Not retryable. */
  | 'other';

/** An AWS SDK error's name, code, HTTP status and message. */
export interface AwsErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken', 'TokenRefreshRequired', 'RequestExpired']);
const INVALID = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidToken',
]);
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied']);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
]);
const QUOTA = new Set(['ResourceLimitExceeded', 'ServiceQuotaExceededException']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'TimeoutError']);
const RETRYABLE = new Set<AwsFailureKind>(['throttled', 'quota', 'server', 'network']);

/** The kind of failure `err` (whatever an AWS SDK call threw) is. */
export function awsFailureKind(err: unknown): AwsFailureKind {
  const e = (err ?? {}) as AwsErrorLike;
  const name = e.name ?? '';
  if (EXPIRED.has(name)) return 'expired-credentials';
  if (INVALID.has(name)) return 'invalid-credentials';
  if (NO_CREDENTIALS.has(name)) return 'no-credentials';
  if (DENIED.has(name)) return 'access-denied';
  if (THROTTLED.has(name)) return 'throttled';
  if (QUOTA.has(name)) return 'quota';
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500 || e.$fault === 'server') return 'server';
  if (NETWORK.has(e.code ?? '') || NETWORK.has(name)) return 'network';
  return 'other';
}

/** Whether a failed call is worth repeating later: throttling, an account quota, the server side, the network. */
export function isRetryableAwsError(err: unknown): boolean {
  return RETRYABLE.has(awsFailureKind(err));
}

/** What was being done when an AWS call failed, for the message. */
export interface AwsCallContext {
  /** The backend's name: messages read "backend <name>: <doing> failed: ...". */
  readonly backend: string;
  /** Where the credentials came from, in words (describeAwsCredentialSource). */
  readonly credentialSource: string;
  /** E.g. `CreateTrainingJob x`, `GetDevice arn:...`. */
  readonly doing: string;
  /** How many times the call was made (the SDK's own retries count); said in the message when more than once. */
  readonly attempts: number;
  /** The permissions to grant when access is denied (they differ per service). */
  readonly permissions: string;
  /** What to do about an exhausted quota (it differs per service). */
  readonly quotaHint: string;
}

/** Turns whatever an AWS call threw into one BackendError that says what happened and what to do (a BackendError passes through). */
export function awsBackendError(ctx: AwsCallContext, err: unknown): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as AwsErrorLike;
  const detail = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  const { backend, doing, credentialSource: source } = ctx;
  const tries = ctx.attempts > 1 ? ` after ${ctx.attempts} attempts` : '';
  const kind = awsFailureKind(err);
  switch (kind) {
    case 'expired-credentials':
      return new BackendError(
        backend,
        `${doing} failed: the AWS credentials from ${source} have expired (${detail}). Refresh them (aws sso login, or a new session token) and run again.`,
        false,
      );
    case 'invalid-credentials':
      return new BackendError(
        backend,
        `${doing} failed: AWS rejected the credentials from ${source} (${detail}). Check that the access key belongs to an active IAM user or role in this account and that the secret key matches it.`,
        false,
      );
    case 'no-credentials':
      return new BackendError(
        backend,
        `${doing} failed: no usable AWS credentials in ${source} (${e.message}). Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, run aws sso login, or give the backend a credentialsSecret.`,
        false,
      );
    case 'access-denied':
      return new BackendError(
        backend,
        `${doing} failed: the credentials from ${source} are not allowed to do this (${detail}). Grant ${ctx.permissions}.`,
        false,
      );
    case 'quota':
      return new BackendError(backend, `${doing} failed${tries}: ${detail}. ${ctx.quotaHint}`, true);
    case 'throttled':
    case 'server':
    case 'network':
      return new BackendError(
        backend,
        `${doing} failed${tries}: ${detail}. AWS is throttling or unavailable; the task can be retried.`,
        true,
      );
    case 'other':
      return new BackendError(backend, `${doing} failed: ${detail}`, false);
  }
}
