/**
 * The Qiskit Runtime REST shapes this backend reads and writes (IBM Quantum Platform API,
 * `IBM-API-Version` {@link IBM_API_VERSION}). Only the fields Orrery uses are typed; the
 * emulator in test/emulators/ibm/ serves the same shapes.
 */

/** Date-based API version sent on every runtime request (the documented samples use it). */
export const IBM_API_VERSION = '2025-05-01';

/** One entry of `GET /v1/backends` → `{ devices: [...] }`. */
export interface DeviceListEntry {
  readonly name: string;
  /** `online` accepts jobs; `paused` and `offline` do not. */
  readonly status: { readonly name: 'online' | 'paused' | 'offline' | string; readonly reason?: string };
  readonly is_simulator?: boolean;
  readonly qubits?: number | null;
  /** Jobs waiting on the device. */
  readonly queue_length: number;
}

/** `GET /v1/backends/{name}/status`. */
export interface DeviceStatusReply {
  /** True while the device is operational. */
  readonly state: boolean;
  readonly status: string;
  readonly message?: string;
  /** Jobs waiting on the device (Qiskit calls it `pending_jobs`). */
  readonly length_queue: number;
  readonly backend_version?: string;
}

/** `GET /v1/backends/{name}/configuration` (the fields transpiling needs). */
export interface DeviceConfiguration {
  readonly backend_name: string;
  readonly backend_version?: string;
  readonly n_qubits: number;
  /** Native gates, e.g. `['ecr', 'id', 'rz', 'sx', 'x']`. */
  readonly basis_gates: readonly string[];
  /** Directed pairs `[control, target]` a two-qubit gate may act on. */
  readonly coupling_map?: readonly (readonly number[])[];
  readonly max_shots?: number;
  readonly [key: string]: unknown;
}

/** Job states of the Runtime API. */
export type JobStatus =
  /** Waiting in the device's queue. */
  | 'Queued'
  /** Executing on the device. */
  | 'Running'
  /** Finished; results can be fetched. */
  | 'Completed'
  /** Cancelled by a user (or, as `Cancelled - Ran too long`, by the service). */
  | 'Cancelled'
  | 'Cancelled - Ran too long'
  /** Failed; `state.reason` says why. */
  | 'Failed';

/** `GET /v1/jobs/{id}` (and the job list entries). */
export interface JobReply {
  readonly id: string;
  readonly backend?: string;
  readonly status: JobStatus | string;
  readonly state: {
    readonly status: JobStatus | string;
    readonly reason?: string;
    readonly reason_code?: number;
    readonly reason_solution?: string;
  };
  readonly created?: string;
  readonly estimated_running_time_seconds?: number;
}

/** `POST /v1/jobs` body for Sampler V2 (`params.pubs`: `[circuit, parameterValues?, shots?]`). */
export interface SamplerJobRequest {
  readonly program_id: 'sampler';
  readonly backend: string;
  readonly params: {
    readonly pubs: readonly (readonly unknown[])[];
    readonly shots?: number;
    readonly version: 2;
    /** False: plain JSON results (hex samples per register) instead of Qiskit-encoded objects. */
    readonly support_qiskit: false;
    readonly options?: Readonly<Record<string, unknown>>;
  };
  /** The batch or session the job belongs to (execution modes; absent in job mode). */
  readonly session_id?: string;
}

/**
 * `GET /v1/jobs/{id}/metrics` (the members Orrery reads): `usage.quantum_seconds` is the QPU
 * usage IBM bills; `usage.seconds` includes near-time classical processing; `bss.seconds` is
 * the older name of the billed quantum seconds.
 */
export interface JobMetricsReply {
  readonly usage?: { readonly quantum_seconds?: number; readonly seconds?: number };
  readonly bss?: { readonly seconds?: number };
  readonly timestamps?: Readonly<Record<string, string | null>>;
  readonly num_circuits?: number;
  readonly executions?: number;
}

/** `POST /v1/jobs` reply. */
export interface JobCreateReply {
  readonly id: string;
  readonly backend: string;
}

/** One classical register of one pub result: a hex integer per shot, bit i = the register's bit i. */
export interface RegisterSamples {
  readonly samples: readonly string[];
  readonly num_bits: number;
}

/** `GET /v1/jobs/{id}/results` of a Sampler V2 job with `support_qiskit: false`. */
export interface SamplerResultsReply {
  readonly results: readonly {
    readonly data: Readonly<Record<string, RegisterSamples>>;
    readonly metadata?: unknown;
  }[];
  readonly metadata?: unknown;
}

/** The error body of the Runtime API. */
export interface ErrorContainer {
  readonly errors?: readonly { readonly code?: string; readonly message?: string; readonly more_info?: string }[];
  readonly trace?: string;
  readonly message?: string;
}

/** The message(s) of an error body, or its raw text. */
export function errorText(text: string): string {
  try {
    const e = JSON.parse(text) as ErrorContainer;
    const msgs = (e.errors ?? []).map((x) => x.message).filter((m): m is string => typeof m === 'string');
    if (msgs.length > 0) return msgs.join('; ');
    if (typeof e.message === 'string') return e.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300) || 'no detail given';
}

/** `POST /v1/sessions` body: `dedicated` is session mode; `max_ttl` in seconds (the service caps it by plan). */
export interface SessionCreateRequest {
  readonly mode: 'batch' | 'dedicated';
  readonly backend: string;
  readonly max_ttl?: number;
}

/** `GET /v1/sessions/{id}` (and the create reply): the fields Orrery reads. */
export interface SessionReply {
  readonly id: string;
  readonly backend_name?: string;
  readonly mode?: 'batch' | 'dedicated';
  /** `open` and `active` take jobs while `accepting_jobs`; `inactive` waits for one; `closed` is final. */
  readonly state?: 'open' | 'active' | 'inactive' | 'closed' | string;
  readonly state_reason?: string;
  readonly accepting_jobs?: boolean;
  readonly max_ttl?: number;
  readonly interactive_ttl?: number;
  /** Seconds left of max_ttl once the session is active. */
  readonly active_ttl?: number;
}
