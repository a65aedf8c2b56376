/** The `ibm-quantum` backend's config (`kind: 'ibm-quantum'`), checked where it enters. */
import { loadIbmPriceTable } from './usage-cost.ts';
import { checkIbmPrimitiveOptions, type IbmPrimitiveOptions } from './primitive-options.ts';

/** Public IBM Quantum Platform API (global region); the eu-de region is https://eu-de.quantum.cloud.ibm.com/api. */
export const DEFAULT_IBM_URL = 'https://quantum.cloud.ibm.com/api';
/** IBM Cloud IAM, where API keys are exchanged for bearer tokens. */
export const DEFAULT_IAM_URL = 'https://iam.cloud.ibm.com';
/** Jobs the backend keeps on the service at once unless configured. */
export const DEFAULT_MAX_CONCURRENT_JOBS = 5;
/**
 * Executions (shots summed over a job's PUBs) one Sampler job may hold: 10 million, from
 * https://quantum.cloud.ibm.com/docs/en/guides/job-limits ("Maximum executions").
 */
export const DEFAULT_MAX_EXECUTIONS_PER_JOB = 10_000_000;
/** Default window in which ready circuit tasks are gathered into one job (0: one job per task). */
export const DEFAULT_BATCH_WINDOW_MS = 50;
/** First wait between job status polls; it grows while the job waits. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Seconds without a job in flight after which Orrery closes its batch or session. */
export const DEFAULT_SESSION_IDLE_S = 300;

/**
 * How the backend's jobs run on IBM (execution modes, https://quantum.cloud.ibm.com/docs/guides/execution-modes):
 * - `job`: each job on its own (the default).
 * - `batch`: jobs grouped in a batch (POST /v1/sessions, mode `batch`): they are scheduled together.
 * - `session`: a dedicated session (mode `dedicated`): exclusive access to the device between jobs (not on the Open Plan).
 */
export type IbmExecutionMode = 'job' | 'batch' | 'session';

/** Config of an `ibm-quantum` backend. */
export interface IbmQuantumConfig {
  readonly name: string;
  readonly kind: 'ibm-quantum';
  /** CRN of the Qiskit Runtime service instance, sent as the `Service-CRN` header. */
  readonly instanceCrn: string;
  /** Name of the keychain secret holding the IBM Cloud API key (`orrery secrets set NAME`). */
  readonly apiKeySecret: string;
  /** `'least_busy'` (default): the operational device with enough qubits and the shortest queue; or a backend name such as `ibm_fez`. */
  readonly device?: string;
  /** Runtime API base, default {@link DEFAULT_IBM_URL}. */
  readonly url?: string;
  /** IAM base, default {@link DEFAULT_IAM_URL}. */
  readonly iamUrl?: string;
  /** Jobs submitted at once (QPU slots of the backend's node), default 5. */
  readonly maxConcurrentJobs?: number;
  /** First job-status poll interval in ms, default 1000. */
  readonly pollIntervalMs?: number;
  /** The instance's plan, for costs (resources/ibm-pricing.json): `pay-as-you-go` (default), `flex`, `premium` or `open`. */
  readonly plan?: string;
  /** A rate per second of QPU usage that replaces the plan's (a contract's own price). */
  readonly usdPerSecond?: number;
  /** Execution mode, default `'job'`. */
  readonly mode?: IbmExecutionMode;
  /** `max_ttl` of the batch or session in seconds (the service caps it by plan); default: the service's. */
  readonly sessionMaxTtlS?: number;
  /** Close the batch or session after this many seconds with no job in flight, default {@link DEFAULT_SESSION_IDLE_S}. */
  readonly sessionIdleS?: number;
  /** Default Sampler V2 options for every job (twirling, dynamical_decoupling, ...); a task's `ibmOptions` replace them key by key. */
  readonly ibmOptions?: IbmPrimitiveOptions;
  /** Circuit tasks ready within this many ms go out as one job (one PUB each); 0 turns batching off. Default 50. */
  readonly batchWindowMs?: number;
  /** Shots summed over one job's PUBs before a batch is split into another job, default 10 million. */
  readonly maxExecutionsPerJob?: number;
}

const KEYS = [
  'name',
  'kind',
  'instanceCrn',
  'apiKeySecret',
  'device',
  'url',
  'iamUrl',
  'maxConcurrentJobs',
  'pollIntervalMs',
  'plan',
  'usdPerSecond',
  'mode',
  'sessionMaxTtlS',
  'sessionIdleS',
  'ibmOptions',
  'batchWindowMs',
  'maxExecutionsPerJob',
];

/** Validates an `ibm-quantum` config; every error names the field, what was given and what is allowed. */
export function checkIbmQuantumConfig(c: Record<string, unknown>): IbmQuantumConfig {
  if (typeof c.name !== 'string' || c.name === '')
    throw new TypeError(`ibm-quantum backend config: name must be a non-empty string (got ${show(c.name)})`);
  const where = `backend ${c.name}`;
  const fail = (field: string, allowed: string): never => {
    throw new TypeError(`${where}: ${field} must be ${allowed} (got ${show(c[field])})`);
  };
  if (c.kind !== 'ibm-quantum') fail('kind', "'ibm-quantum'");
  for (const k of Object.keys(c))
    if (!KEYS.includes(k))
      throw new TypeError(`${where}: unknown key ${k} for kind ibm-quantum; allowed: ${KEYS.join(', ')}`);
  if (typeof c.instanceCrn !== 'string' || !c.instanceCrn.startsWith('crn:')) {
    fail(
      'instanceCrn',
      "the CRN of your Qiskit Runtime instance, a string starting with 'crn:' (IBM Quantum Platform > Instances)",
    );
  }
  if (typeof c.apiKeySecret !== 'string' || c.apiKeySecret === '')
    fail('apiKeySecret', 'the name of a keychain secret holding the API key (store it with: orrery secrets set NAME)');
  if (c.device !== undefined && (typeof c.device !== 'string' || c.device === ''))
    fail('device', "'least_busy' or an IBM backend name such as 'ibm_fez'");
  for (const k of ['url', 'iamUrl'] as const) {
    if (c[k] === undefined) continue;
    if (typeof c[k] !== 'string' || !isHttpUrl(c[k] as string)) fail(k, 'an http(s) URL');
  }
  if (
    c.maxConcurrentJobs !== undefined &&
    (!Number.isInteger(c.maxConcurrentJobs) || (c.maxConcurrentJobs as number) < 1)
  )
    fail('maxConcurrentJobs', 'an integer >= 1');
  if (
    c.pollIntervalMs !== undefined &&
    (typeof c.pollIntervalMs !== 'number' || !Number.isFinite(c.pollIntervalMs) || c.pollIntervalMs < 1)
  ) {
    fail('pollIntervalMs', 'a number of milliseconds >= 1');
  }
  if (c.plan !== undefined) {
    const plans = [...loadIbmPriceTable().plans.keys()];
    if (typeof c.plan !== 'string' || !plans.includes(c.plan)) fail('plan', `one of ${plans.join(', ')}`);
  }
  if (
    c.usdPerSecond !== undefined &&
    (typeof c.usdPerSecond !== 'number' || !Number.isFinite(c.usdPerSecond) || c.usdPerSecond < 0)
  )
    fail('usdPerSecond', 'a number of US dollars per second of QPU usage >= 0');
  if (c.mode !== undefined && !['job', 'batch', 'session'].includes(c.mode as string))
    fail('mode', "'job', 'batch' or 'session' (IBM execution modes)");
  for (const k of ['sessionMaxTtlS', 'sessionIdleS'] as const)
    if (c[k] !== undefined && (!Number.isInteger(c[k]) || (c[k] as number) < 1))
      fail(k, 'an integer number of seconds >= 1');
  if (c.ibmOptions !== undefined) checkIbmPrimitiveOptions(c.ibmOptions, 'sampler', where);
  if (
    c.batchWindowMs !== undefined &&
    (typeof c.batchWindowMs !== 'number' || !Number.isFinite(c.batchWindowMs) || c.batchWindowMs < 0)
  )
    fail('batchWindowMs', 'a number of milliseconds >= 0 (0 turns batching off)');
  if (
    c.maxExecutionsPerJob !== undefined &&
    (!Number.isInteger(c.maxExecutionsPerJob) || (c.maxExecutionsPerJob as number) < 1)
  )
    fail('maxExecutionsPerJob', 'an integer >= 1 (shots summed over the PUBs of one job)');
  return c as unknown as IbmQuantumConfig;
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
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
