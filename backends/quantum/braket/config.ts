/** The `braket` backend's config (`kind: 'braket'`), checked where it enters. */

/** Quantum tasks the backend keeps on Braket at once unless configured. */
export const DEFAULT_MAX_CONCURRENT_TASKS = 5;
/** First wait between GetQuantumTask polls; it grows while the task waits in the queue. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Key prefix of results in the bucket when the config names none. */
export const DEFAULT_S3_PREFIX = 'orrery-braket';
/** How long circuit tasks are gathered into one program set unless configured. */
export const DEFAULT_BATCH_WINDOW_MS = 50;

/** Config of a `braket` backend. */
export interface BraketConfig {
  readonly name: string;
  readonly kind: 'braket';
  /** AWS region of the Braket endpoint, e.g. `us-east-1` (QPUs live in their provider's region). */
  readonly region: string;
  /** Default device, e.g. `arn:aws:braket:::device/quantum-simulator/amazon/sv1`; a task's `device` option wins. */
  readonly deviceArn: string;
  /** Bucket Braket writes `results.json` into (its name must start with `amazon-braket-` for the default service role). */
  readonly s3Bucket: string;
  /** Key prefix inside the bucket, default {@link DEFAULT_S3_PREFIX}. */
  readonly s3Prefix?: string;
  /** Endpoint override for Braket and S3 (an emulator, a VPC endpoint); S3 is then addressed path-style. */
  readonly endpoint?: string;
  /** Quantum tasks submitted at once (QPU slots of the backend's node), default 5. */
  readonly maxConcurrentTasks?: number;
  /** First GetQuantumTask poll interval in ms, default 1000. */
  readonly pollIntervalMs?: number;
  /**
   * Circuit tasks ready within this many ms for the same device go out as one program-set quantum
   * task where the device lists program sets (default {@link DEFAULT_BATCH_WINDOW_MS}; 0 = one task per circuit).
   */
  readonly batchWindowMs?: number;
  /**
   * Name of a keychain secret holding `{"accessKeyId", "secretAccessKey", "sessionToken"?}` JSON.
   * Without it the AWS SDK's default chain is used: environment, shared config and profiles, SSO, roles.
   */
  readonly credentialsSecret?: string;
}

const KEYS = [
  'name',
  'kind',
  'region',
  'deviceArn',
  's3Bucket',
  's3Prefix',
  'endpoint',
  'maxConcurrentTasks',
  'pollIntervalMs',
  'credentialsSecret',
  'batchWindowMs',
];
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** Braket device ARNs: `arn:<partition>:braket:<region, empty for simulators>::device/<type>/<provider>/<name>`. */
const DEVICE_ARN = /^arn:aws[a-z-]*:braket:[a-z0-9-]*:\d*:device\/[\w.-]+\/[\w.-]+\/[\w.-]+$/;
/** S3 bucket naming rules (3-63 chars, lower case, digits, dots, hyphens; starts and ends alphanumeric). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Whether a string looks like a Braket device ARN. */
export function isDeviceArn(s: string): boolean {
  return DEVICE_ARN.test(s);
}

/** Validates a `braket` config; every error names the field, what was given and what is allowed. */
export function checkBraketConfig(c: Record<string, unknown>): BraketConfig {
  if (typeof c.name !== 'string' || c.name === '')
    throw new TypeError(`braket backend config: name must be a non-empty string (got ${show(c.name)})`);
  const where = `backend ${c.name}`;
  const fail = (field: string, allowed: string): never => {
    throw new TypeError(`${where}: ${field} must be ${allowed} (got ${show(c[field])})`);
  };
  if (c.kind !== 'braket') fail('kind', "'braket'");
  for (const k of Object.keys(c))
    if (!KEYS.includes(k))
      throw new TypeError(`${where}: unknown key ${k} for kind braket; allowed: ${KEYS.join(', ')}`);
  if (typeof c.region !== 'string' || !REGION.test(c.region)) fail('region', "an AWS region such as 'us-east-1'");
  if (typeof c.deviceArn !== 'string' || !isDeviceArn(c.deviceArn)) {
    fail(
      'deviceArn',
      "a Braket device ARN such as 'arn:aws:braket:::device/quantum-simulator/amazon/sv1' or 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1'",
    );
  }
  if (typeof c.s3Bucket !== 'string' || !BUCKET.test(c.s3Bucket))
    fail('s3Bucket', "an S3 bucket name such as 'amazon-braket-my-results' (no s3:// and no key)");
  if (
    c.s3Prefix !== undefined &&
    (typeof c.s3Prefix !== 'string' || c.s3Prefix === '' || c.s3Prefix.startsWith('/') || c.s3Prefix.includes('//'))
  ) {
    fail('s3Prefix', "a key prefix such as 'experiments/run-1' (no leading slash)");
  }
  if (c.endpoint !== undefined && (typeof c.endpoint !== 'string' || !isHttpUrl(c.endpoint)))
    fail('endpoint', "an http(s) URL such as 'http://127.0.0.1:4566'");
  if (
    c.maxConcurrentTasks !== undefined &&
    (!Number.isInteger(c.maxConcurrentTasks) || (c.maxConcurrentTasks as number) < 1)
  )
    fail('maxConcurrentTasks', 'an integer >= 1');
  if (
    c.pollIntervalMs !== undefined &&
    (typeof c.pollIntervalMs !== 'number' || !Number.isFinite(c.pollIntervalMs) || c.pollIntervalMs < 1)
  ) {
    fail('pollIntervalMs', 'a number of milliseconds >= 1');
  }
  if (
    c.batchWindowMs !== undefined &&
    (typeof c.batchWindowMs !== 'number' || !Number.isFinite(c.batchWindowMs) || c.batchWindowMs < 0)
  )
    fail('batchWindowMs', 'a number of milliseconds >= 0 (0 = one quantum task per circuit)');
  if (c.credentialsSecret !== undefined && (typeof c.credentialsSecret !== 'string' || c.credentialsSecret === '')) {
    fail(
      'credentialsSecret',
      'the name of a keychain secret holding {"accessKeyId","secretAccessKey","sessionToken"?} (store it with: orrery secrets set NAME)',
    );
  }
  return c as unknown as BraketConfig;
}

/** The results key prefix of a config, without trailing slashes. */
export function s3PrefixOf(c: BraketConfig): string {
  return (c.s3Prefix ?? DEFAULT_S3_PREFIX).replace(/\/+$/, '');
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}
