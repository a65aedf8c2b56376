/**
 * Estimator V2 on the Qiskit Runtime REST API: the job body and reading its results. A PUB is
 * `[circuit, observables, parameter_values?, precision?]`; observables go as a list of
 * `{ pauli: coefficient }` mappings over the device's qubits (ISA observables: the transpiled
 * layout applied), results come back per PUB as `data.evs` and `data.stds`, one per observable.
 * Shapes from https://quantum.cloud.ibm.com/docs/guides/estimator-rest-api and
 * https://quantum.cloud.ibm.com/docs/guides/estimator-input-output.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { applyLayout, type PauliSum } from '../observables.ts';

/** `POST /v1/jobs` body for Estimator V2. */
export interface EstimatorJobRequest {
  readonly program_id: 'estimator';
  readonly backend: string;
  readonly params: {
    readonly pubs: readonly (readonly unknown[])[];
    readonly version: 2;
    readonly support_qiskit: false;
    /** `default_shots` overrides the service's default precision (0.015625) when the task gives shots. */
    readonly options?: Readonly<Record<string, unknown>>;
  };
  /** The batch or session the job belongs to (execution modes; absent in job mode). */
  readonly session_id?: string;
}

/** `GET /v1/jobs/{id}/results` of an Estimator V2 job with `support_qiskit: false`. */
export interface EstimatorResultsReply {
  readonly results?: readonly { readonly data?: { readonly evs?: unknown; readonly stds?: unknown } }[];
}

/** What a task asks of the estimator, on a transpiled circuit. */
export interface EstimatorPubInput {
  /** The transpiled circuit as OpenQASM 3 over physical qubits. */
  readonly qasm: string;
  readonly observables: readonly PauliSum[];
  /** Virtual qubit i ends on physical qubit finalLayout[i]. */
  readonly finalLayout: readonly number[];
  readonly deviceQubits: number;
  readonly shots?: number;
  readonly precision?: number;
}

/** The ISA observables of `input` as the wire takes them: one `{ pauli: coeff }` mapping each. */
export function isaObservables(input: EstimatorPubInput): Record<string, number>[] {
  return input.observables.map((o) => {
    const mapping = Object.create(null) as Record<string, number>;
    for (const t of applyLayout(o, input.finalLayout, input.deviceQubits).terms)
      mapping[t.pauli] = (mapping[t.pauli] ?? 0) + t.coeff;
    return mapping;
  });
}

/**
 * One task's PUB `[circuit, observables]`, or `[circuit, observables, null, precision]`. Tasks
 * with the same shots can share a job (a batch): their PUBs go in one list, results by index.
 */
export function estimatorPub(input: EstimatorPubInput): unknown[] {
  const pub: unknown[] = [input.qasm, isaObservables(input)];
  if (input.precision !== undefined) pub.push(null, input.precision);
  return pub;
}

/** The job body: one PUB for one Estimator task. */
export function estimatorJobRequest(device: string, input: EstimatorPubInput): EstimatorJobRequest {
  return {
    program_id: 'estimator',
    backend: device,
    params: {
      pubs: [estimatorPub(input)],
      version: 2,
      support_qiskit: false,
      ...(input.shots !== undefined && { options: { default_shots: input.shots } }),
    },
  };
}

/** The values and stds of PUB `pubIndex` (default 0), checked: one finite number per observable. */
export function readEstimatorResults(
  backend: string,
  jobId: string,
  reply: EstimatorResultsReply,
  count: number,
  pubIndex = 0,
): { values: number[]; stds: number[] } {
  const data = reply.results?.[pubIndex]?.data;
  const values = numbers(data?.evs);
  const stds = numbers(data?.stds);
  if (!values || !stds || values.length !== count || stds.length !== count)
    throw new BackendError(
      backend,
      `IBM Quantum Estimator job ${jobId} returned no evs/stds for ${count} observable(s) in PUB ${pubIndex} (got ${JSON.stringify(data ?? null).slice(0, 200)}); fetch them with GET /v1/jobs/${jobId}/results or run the task again`,
      false,
    );
  return { values, stds };
}

/** A number list from evs or stds: a 1-D list, or a single number for a 0-d observables array. */
function numbers(x: unknown): number[] | undefined {
  const list = typeof x === 'number' ? [x] : x;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
  return list as number[];
}
