/**
 * The Qiskit Runtime V2 primitive options Orrery passes through as a job's `params.options`,
 * checked before anything is submitted so a typo fails at `.remote()` naming the field instead
 * of as an HTTP 400 minutes later. Field names and allowed values follow the qiskit-ibm-runtime
 * API reference: SamplerOptions, EstimatorOptions, DynamicalDecouplingOptions, TwirlingOptions,
 * ResilienceOptionsV2 (https://quantum.cloud.ibm.com/docs/api/qiskit-ibm-runtime/options-sampler-options
 * and its sibling pages). Sampler V2 has no `resilience_level` and no measurement mitigation:
 * those are Estimator options, and the service refuses them on a Sampler job.
 */

/** The primitive a job runs. */
export type IbmPrimitive = 'sampler' | 'estimator';

/** `dynamical_decoupling` (DynamicalDecouplingOptions). */
export interface DynamicalDecouplingOptions {
  enable?: boolean;
  /** `XX` (default), `XpXm` or `XY4`. */
  sequence_type?: 'XX' | 'XpXm' | 'XY4';
  extra_slack_distribution?: 'middle' | 'edges';
  scheduling_method?: 'asap' | 'alap';
  skip_reset_qubits?: boolean;
}

/** `twirling` (TwirlingOptions). */
export interface TwirlingOptions {
  enable_gates?: boolean;
  enable_measure?: boolean;
  /** `'auto'` or an integer >= 1. */
  num_randomizations?: number | 'auto';
  /** `'auto'` or an integer >= 1. */
  shots_per_randomization?: number | 'auto';
  strategy?: 'active' | 'active-circuit' | 'active-accum' | 'all';
}

/** Options of a Sampler V2 or Estimator V2 job, as the Runtime API takes them (snake_case). */
export interface IbmPrimitiveOptions {
  dynamical_decoupling?: DynamicalDecouplingOptions;
  twirling?: TwirlingOptions;
  execution?: { init_qubits?: boolean; rep_delay?: number };
  /** Seconds of quantum time after which the service cancels the job. */
  max_execution_time?: number;
  /** Estimator only: 0 (none), 1 (TREX measurement mitigation, the default) or 2 (adds ZNE). */
  resilience_level?: 0 | 1 | 2;
  /** Estimator only (ResilienceOptionsV2): measurement mitigation and its learning. */
  resilience?: { measure_mitigation?: boolean; zne_mitigation?: boolean };
}

type Check = (v: unknown, field: string) => void;

const oneOf =
  (...allowed: readonly unknown[]): Check =>
  (v, field) => {
    if (!allowed.includes(v)) fail(field, allowed.map((a) => JSON.stringify(a)).join(' | '), v);
  };
const bool: Check = (v, field) => {
  if (typeof v !== 'boolean') fail(field, 'true or false', v);
};
const autoOrCount: Check = (v, field) => {
  if (v !== 'auto' && !(Number.isInteger(v) && (v as number) >= 1)) fail(field, "'auto' or an integer >= 1", v);
};
const positive: Check = (v, field) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(field, 'a number > 0', v);
};

const DD: Record<string, Check> = {
  enable: bool,
  sequence_type: oneOf('XX', 'XpXm', 'XY4'),
  extra_slack_distribution: oneOf('middle', 'edges'),
  scheduling_method: oneOf('asap', 'alap'),
  skip_reset_qubits: bool,
};
const TWIRLING: Record<string, Check> = {
  enable_gates: bool,
  enable_measure: bool,
  num_randomizations: autoOrCount,
  shots_per_randomization: autoOrCount,
  strategy: oneOf('active', 'active-circuit', 'active-accum', 'all'),
};
const EXECUTION: Record<string, Check> = { init_qubits: bool, rep_delay: positive };
const RESILIENCE: Record<string, Check> = { measure_mitigation: bool, zne_mitigation: bool };

const SAMPLER: Record<string, Check> = {
  dynamical_decoupling: group(DD),
  twirling: group(TWIRLING),
  execution: group(EXECUTION),
  max_execution_time: (v, f) => {
    if (!Number.isInteger(v) || (v as number) < 1) fail(f, 'an integer number of seconds >= 1', v);
  },
};
const ESTIMATOR: Record<string, Check> = {
  ...SAMPLER,
  resilience_level: oneOf(0, 1, 2),
  resilience: group(RESILIENCE),
};

/** Why a Sampler refuses an Estimator-only field (named in the error). */
const ESTIMATOR_ONLY = new Set(['resilience_level', 'resilience']);

/**
 * Checks `options` for a `primitive` job and returns them unchanged. Throws a TypeError naming
 * the field (`ibmOptions.twirling.num_randomizations`), what was given and what is allowed;
 * `where` prefixes the message (e.g. `circuit()`).
 */
export function checkIbmPrimitiveOptions(
  options: unknown,
  primitive: IbmPrimitive,
  where: string,
  root = 'ibmOptions',
): IbmPrimitiveOptions {
  try {
    if (!isPlainObject(options)) fail(root, 'an object of Qiskit Runtime options', options);
    const schema = primitive === 'sampler' ? SAMPLER : ESTIMATOR;
    for (const [k, v] of Object.entries(options as object)) {
      const check = Object.hasOwn(schema, k) ? schema[k] : undefined;
      if (!check) {
        if (primitive === 'sampler' && ESTIMATOR_ONLY.has(k))
          throw new TypeError(
            `${root}.${k} is an Estimator option: Sampler V2 has no resilience settings (no resilience_level, no measurement mitigation); use twirling or dynamical_decoupling, or an estimator task`,
          );
        throw new TypeError(
          `${root}.${k} is not a ${primitive === 'sampler' ? 'Sampler' : 'Estimator'} V2 option; allowed: ${Object.keys(schema).join(', ')}`,
        );
      }
      check(v, `${root}.${k}`);
    }
    return options as IbmPrimitiveOptions;
  } catch (err) {
    if (err instanceof TypeError) throw new TypeError(`${where}: ${err.message}`);
    throw err;
  }
}

function group(fields: Record<string, Check>): Check {
  return (v, field) => {
    if (!isPlainObject(v)) fail(field, `an object with ${Object.keys(fields).join(', ')}`, v);
    for (const [k, x] of Object.entries(v as object)) {
      const check = Object.hasOwn(fields, k) ? fields[k] : undefined;
      if (!check) throw new TypeError(`${field}.${k} is not an option; allowed: ${Object.keys(fields).join(', ')}`);
      check(x, `${field}.${k}`);
    }
  };
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(field: string, allowed: string, got: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(got) ?? String(got);
  } catch {
    shown = String(got);
  }
  throw new TypeError(`${field} must be ${allowed} (got ${shown})`);
}
