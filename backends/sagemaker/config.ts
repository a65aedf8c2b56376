/** The sagemaker backend's config (`kind: 'sagemaker'`), validated where it enters. */
import type { BackendConfigBase } from '../types.ts';
import { instanceType, loadInstanceTable } from './instance-types.ts';

/** Managed spot training: how long a job may wait for spot capacity, and where it checkpoints. */
export interface SpotConfig {
  /** MaxWaitTimeInSeconds: training plus waiting for capacity (>= maxRuntimeS). */
  readonly maxWaitS?: number;
  /** CheckpointConfig.S3Uri (`s3://bucket/prefix`); SageMaker syncs /opt/ml/checkpoints there. */
  readonly checkpointS3Uri?: string;
}

/** Config of a sagemaker backend. */
export interface SageMakerConfig extends BackendConfigBase {
  readonly kind: 'sagemaker';
  readonly region: string;
  /** The IAM role SageMaker assumes to run jobs (`arn:aws:iam::<account>:role/<name>`). */
  readonly roleArn: string;
  /** `s3://bucket/prefix`: inputs (content-addressed), per-job input trees and job outputs. */
  readonly s3Prefix: string;
  readonly instanceType: string;
  /** Instances per job (default 1). */
  readonly instanceCount?: number;
  /** ML storage volume per instance, GB (default 30). */
  readonly volumeSizeGb?: number;
  /** MaxRuntimeInSeconds (default 86400). */
  readonly maxRuntimeS?: number;
  /** Managed spot training: `true` for defaults, or its settings. */
  readonly spot?: boolean | SpotConfig;
  /** Training jobs running at once (one virtual node each; default 4). */
  readonly maxConcurrentJobs?: number;
  /** Service endpoint override for SageMaker, S3 and CloudWatch Logs (an emulator, a VPC endpoint). */
  readonly endpoint?: string;
  /** Keychain secret holding JSON `{accessKeyId, secretAccessKey, sessionToken?}`; else the SDK's default chain. */
  readonly credentialsSecret?: string;
  /** AWS profile of ~/.aws/config (also SSO profiles); else AWS_PROFILE or the default chain. */
  readonly profile?: string;
  /** DescribeTrainingJob interval, ms (default 10000; raised on errors). */
  readonly pollIntervalMs?: number;
  /** A virtual node idle this long is removed (default 60 s). */
  readonly idleTimeoutS?: number;
  /** More node labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

const KEYS = [
  'name',
  'kind',
  'region',
  'roleArn',
  's3Prefix',
  'instanceType',
  'instanceCount',
  'volumeSizeGb',
  'maxRuntimeS',
  'spot',
  'maxConcurrentJobs',
  'endpoint',
  'credentialsSecret',
  'profile',
  'pollIntervalMs',
  'idleTimeoutS',
  'labels',
];
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** SageMaker's own pattern for RoleArn. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;

/** A parsed `s3://bucket/prefix`. */
export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket root). */
  readonly prefix: string;
}

/** Splits `s3://bucket/some/prefix/` into bucket and prefix; undefined when it is not an S3 URI. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const m = S3_URI.exec(uri);
  if (!m) return undefined;
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** Checks a sagemaker backend config; errors name the field and what is allowed. */
export function validateSageMakerConfig(config: unknown): SageMakerConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(
      'sagemaker backend config must be an object with name, kind, region, roleArn, s3Prefix and instanceType',
    );
  }
  const c = config as Record<string, unknown>;
  const where = `backend ${String(c.name)}`;
  const fail = (field: string, allowed: string): never => {
    throw new TypeError(`${where}: ${field} must be ${allowed} (got ${JSON.stringify(c[field])})`);
  };
  if (typeof c.name !== 'string' || c.name === '') fail('name', 'a non-empty string');
  if (c.kind !== 'sagemaker') fail('kind', "'sagemaker'");
  for (const k of Object.keys(c))
    if (!KEYS.includes(k))
      throw new TypeError(`${where}: unknown key ${k} for kind sagemaker; allowed: ${KEYS.join(', ')}`);
  if (typeof c.region !== 'string' || !REGION.test(c.region)) fail('region', "an AWS region such as 'us-east-1'");
  if (typeof c.roleArn !== 'string' || !ROLE_ARN.test(c.roleArn)) {
    fail(
      'roleArn',
      "the ARN of an IAM role SageMaker can assume, such as 'arn:aws:iam::123456789012:role/SageMakerExecution'",
    );
  }
  if (typeof c.s3Prefix !== 'string' || !parseS3Uri(c.s3Prefix))
    fail('s3Prefix', "an S3 URI such as 's3://my-bucket/orrery'");
  const table = loadInstanceTable();
  if (typeof c.instanceType !== 'string' || !instanceType(c.instanceType, table)) {
    fail('instanceType', `one of ${Object.keys(table.instances).join(', ')}`);
  }
  const positiveInt = (k: string, max: number) => {
    const v = c[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max))
      fail(k, `an integer from 1 to ${max}`);
  };
  positiveInt('instanceCount', 100);
  positiveInt('volumeSizeGb', 16384);
  positiveInt('maxRuntimeS', 28 * 86400);
  positiveInt('maxConcurrentJobs', 1000);
  positiveInt('pollIntervalMs', 600_000);
  positiveInt('idleTimeoutS', 86400);
  checkSpot(c, fail);
  if (c.endpoint !== undefined && (typeof c.endpoint !== 'string' || !/^https?:\/\/[^\s/]+/.test(c.endpoint)))
    fail('endpoint', "a URL such as 'https://api.sagemaker.us-east-1.amazonaws.com'");
  if (
    c.credentialsSecret !== undefined &&
    (typeof c.credentialsSecret !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(c.credentialsSecret))
  ) {
    fail(
      'credentialsSecret',
      'the name of a keychain secret holding {"accessKeyId","secretAccessKey","sessionToken"?} (store it with: orrery secrets set NAME)',
    );
  }
  if (c.profile !== undefined && (typeof c.profile !== 'string' || c.profile === ''))
    fail('profile', 'the name of a profile in ~/.aws/config');
  if (c.profile !== undefined && c.credentialsSecret !== undefined)
    throw new TypeError(`${where}: give either profile or credentialsSecret, not both`);
  if (
    c.labels !== undefined &&
    (typeof c.labels !== 'object' || c.labels === null || Object.values(c.labels).some((v) => typeof v !== 'string'))
  ) {
    fail('labels', 'an object of string values');
  }
  return c as unknown as SageMakerConfig;
}

function checkSpot(c: Record<string, unknown>, fail: (field: string, allowed: string) => never): void {
  const spot = c.spot;
  if (spot === undefined || typeof spot === 'boolean') return;
  const allowed = 'true, false or { maxWaitS?, checkpointS3Uri? }';
  if (typeof spot !== 'object' || spot === null || Array.isArray(spot)) fail('spot', allowed);
  const s = spot as Record<string, unknown>;
  for (const k of Object.keys(s)) if (k !== 'maxWaitS' && k !== 'checkpointS3Uri') fail('spot', allowed);
  if (s.maxWaitS !== undefined) {
    const runtime = typeof c.maxRuntimeS === 'number' ? c.maxRuntimeS : 86400;
    if (typeof s.maxWaitS !== 'number' || !Number.isInteger(s.maxWaitS) || s.maxWaitS < runtime) {
      fail(
        'spot',
        `an object whose maxWaitS is an integer of at least maxRuntimeS (${runtime}): SageMaker requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds`,
      );
    }
  }
  if (s.checkpointS3Uri !== undefined && (typeof s.checkpointS3Uri !== 'string' || !parseS3Uri(s.checkpointS3Uri))) {
    fail('spot', "an object whose checkpointS3Uri is an S3 URI such as 's3://my-bucket/checkpoints'");
  }
}
