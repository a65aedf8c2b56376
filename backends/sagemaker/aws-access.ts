/**
 * The AWS side of the sagemaker backend: its credentials (a keychain secret, a named profile, or
 * the SDK's default chain: environment, shared config and SSO, instance roles), the SageMaker, S3
 * and CloudWatch Logs clients made with them, retries, and how AWS failures become one clear
 * BackendError each (classified by transport/aws-errors.ts). Keys are handed to the SDK in
 * memory only; Orrery never writes them anywhere.
 */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { S3Client } from '@aws-sdk/client-s3';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { describeAwsCredentialSource, keychainAwsCredentials } from '../transport/aws-credentials.ts';
import { awsBackendError, awsFailureKind, isRetryableAwsError, type AwsErrorLike } from '../transport/aws-errors.ts';
import type { SageMakerConfig } from './config.ts';

/** The clients of one backend, and where their credentials come from (for error messages). */
export interface AwsAccess {
  readonly sagemaker: SageMakerClient;
  readonly s3: S3Client;
  readonly logs: CloudWatchLogsClient;
  /** E.g. "the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY". */
  readonly credentialSource: string;
  close(): void;
}

/** Attempts of S3 and Logs calls (the SDK's own retry); SageMaker calls are retried by `withRetries`. */
const SDK_ATTEMPTS = 3;

/** Makes the clients of a backend. */
export async function openAws(config: SageMakerConfig): Promise<AwsAccess> {
  const credentials =
    config.credentialsSecret === undefined
      ? undefined
      : await keychainAwsCredentials(config.name, config.credentialsSecret, 'SageMaker');
  const common = {
    region: config.region,
    ...(credentials ? { credentials } : {}),
    ...(config.profile ? { profile: config.profile } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  };
  // One attempt: CreateTrainingJob must be retried on ResourceLimitExceeded too, which the SDK
  // treats as final, so every SageMaker call goes through withRetries instead.
  const sagemaker = new SageMakerClient({ ...common, maxAttempts: 1 });
  // A custom endpoint serves every bucket under one host, so buckets go in the path.
  const s3 = new S3Client({ ...common, maxAttempts: SDK_ATTEMPTS, forcePathStyle: config.endpoint !== undefined });
  const logs = new CloudWatchLogsClient({ ...common, maxAttempts: SDK_ATTEMPTS });
  return {
    sagemaker,
    s3,
    logs,
    credentialSource: describeAwsCredentialSource(config),
    close: () => {
      sagemaker.destroy();
      s3.destroy();
      logs.destroy();
    },
  };
}

/** Backoff of `withRetries`. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Default: 6 attempts over about a minute. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 500, maxMs: 20_000 };

/**
 * Runs `call`, repeating it with exponential backoff and jitter while it fails retryably; the
 * last error is rethrown for `toBackendError` (which marks it retryable). `onRetry` hears each wait.
 */
export async function withRetries<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (err: unknown, delayMs: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.attempts || !isRetryableAwsError(err) || signal?.aborted) throw err;
      const delayMs = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      onRetry?.(err, Math.round(delayMs));
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/**
 * Turns whatever an AWS call threw into a BackendError. `doing` says what was being done
 * (e.g. "CreateTrainingJob x"), so the message reads "backend b: <doing> failed: ...". A region
 * SageMaker does not serve and a role it cannot use get messages of their own; everything
 * else is classified by transport/aws-errors.ts.
 */
export function toBackendError(
  config: Pick<SageMakerConfig, 'name' | 'region' | 'roleArn'>,
  source: string,
  doing: string,
  err: unknown,
  attempts = 1,
): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as AwsErrorLike;
  const detail = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  const network = awsFailureKind(err) === 'network';
  if (
    /scoped to a valid region|not a valid region|Unknown region/i.test(e.message ?? '') ||
    (network && /sagemaker\.[^.]+\.amazonaws/.test(e.message ?? ''))
  ) {
    return new BackendError(
      config.name,
      `${doing} failed: region ${config.region} is not one SageMaker serves for this account (${detail}). Check the backend's region.`,
      false,
    );
  }
  if (e.name === 'ValidationException' && /role/i.test(e.message ?? '')) {
    return new BackendError(
      config.name,
      `${doing} failed: SageMaker cannot use the role ${config.roleArn} (${detail}). Check roleArn: the role must exist and trust sagemaker.amazonaws.com.`,
      false,
    );
  }
  return awsBackendError(
    {
      backend: config.name,
      credentialSource: source,
      doing,
      attempts,
      permissions: `sagemaker:CreateTrainingJob/DescribeTrainingJob/StopTrainingJob, iam:PassRole on ${config.roleArn}, s3:GetObject/PutObject on the s3Prefix and logs:GetLogEvents/DescribeLogStreams`,
      quotaHint:
        "The account's SageMaker quota is used up; wait for running jobs, lower maxConcurrentJobs, or request more through Service Quotas.",
    },
    err,
  );
}
