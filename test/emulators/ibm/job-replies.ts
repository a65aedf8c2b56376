/**
 * A job as the IBM emulator (ibm-emulator.ts) holds it, and what it answers about one: a Sampler PUB's result (sampled
 * with Orrery's simulator on the qubits the device circuit touches), the job's metrics and usage,
 * and its status view.
 */
import { simulate } from '../../../backends/quantum/simulator/index.ts';
import type { Circuit } from '../../../backends/quantum/circuit.ts';
import type { EstimatorPub } from './estimator-job.ts';

/** A Sampler PUB as the emulator keeps it. */
export interface SamplerPub {
  readonly qasm: string;
  readonly shots: number;
  /** The rows of parameter_values as received (absent for a PUB without them). */
  readonly parameterValues?: readonly (readonly number[])[];
}

/** A job as the emulator holds it. */
export interface EmulatedJob {
  readonly id: string;
  readonly backend: string;
  status: 'Queued' | 'Running' | 'Completed' | 'Failed' | 'Cancelled';
  reason?: string;
  reasonCode?: number;
  readonly created: string;
  /** The first PUB's circuit and shots (see `pubs` for all of them). */
  readonly qasm: string;
  readonly shots: number;
  /** The batch or session the job was submitted in. */
  readonly sessionId?: string;
  /** `params.options` as submitted. */
  readonly options?: unknown;
  /** Every PUB of the job, in order: its OpenQASM 3, shots and (Sampler) parameter_values rows. */
  readonly pubs: readonly SamplerPub[];
  results?: unknown;
  /** The PUBs of an Estimator V2 job (estimator-job.ts); absent for Sampler jobs. */
  readonly estimator?: readonly EstimatorPub[];
  /** QPU usage once it ran (absent for a job that never left the queue). */
  quantumSeconds?: number;
  readonly timestamps: { created: string; running?: string; finished?: string };
  cancelRequested: boolean;
  readonly timers: NodeJS.Timeout[];
}

/** The Sampler V2 JSON result of one pub: per classical register, one hex integer per shot. */
export function pubResult(circuit: Circuit, shots: number, seed: number | undefined): unknown {
  const { counts } = simulate(compactQubits(circuit), { shots, seed });
  const data: Record<string, { samples: string[]; num_bits: number }> = {};
  for (const reg of circuit.cregs) data[reg.name] = { samples: [], num_bits: reg.size };
  for (const [key, n] of Object.entries(counts)) {
    // key: clbit 0 rightmost over all clbits; register r holds characters [len-offset-size, len-offset).
    for (const reg of circuit.cregs) {
      const end = key.length - reg.offset;
      const bits = key.slice(end - reg.size, end);
      const hex = `0x${BigInt(`0b${bits || '0'}`).toString(16)}`;
      for (let i = 0; i < n; i++) data[reg.name]!.samples.push(hex);
    }
  }
  // Shots in random order, the same order for every register, as a device returns them.
  const order = [...Array(shots).keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const reg of circuit.cregs) {
    const s = data[reg.name]!.samples;
    data[reg.name]!.samples = order.map((k) => s[k]!);
  }
  return { data, metadata: { circuit_metadata: {} } };
}

/**
 * The circuit on qubits 0..k-1 for the k physical qubits it touches: a device circuit names
 * physical qubits (up to 26 here) but idle ones stay |0> and change no measurement, so the
 * state vector need only span the touched ones.
 */
function compactQubits(circuit: Circuit): Circuit {
  const used = new Map<number, number>();
  const map = (q: number) => {
    let v = used.get(q);
    if (v === undefined) used.set(q, (v = used.size));
    return v;
  };
  const ops = circuit.ops.map((op): Circuit['ops'][number] => {
    switch (op.kind) {
      case 'gate':
        return { ...op, qubits: op.qubits.map(map) };
      case 'measure':
        return { ...op, qubit: map(op.qubit) };
      case 'reset':
        return { ...op, qubit: map(op.qubit) };
      case 'barrier':
        return { ...op, qubits: op.qubits.map(map) };
      default:
        throw new TypeError(`emulator: unknown operation ${JSON.stringify(op satisfies never)}`);
    }
  });
  return {
    ...circuit,
    numQubits: Math.max(1, used.size),
    qregs: [{ name: 'q', size: Math.max(1, used.size), offset: 0 }],
    ops,
  };
}

/** Usage of a job that ran, unless the test says otherwise: 1 s plus 0.2 ms per shot, whole seconds. */
export function defaultUsage(shots: number): number {
  return Math.ceil(1 + shots * 0.0002);
}

/**
 * `GET /v1/jobs/{id}/metrics`: timestamps, and once the job ran its usage: `usage.quantum_seconds`
 * (billed QPU time), `usage.seconds` and the older `bss.seconds`.
 */
export function metricsView(job: EmulatedJob): unknown {
  // A job that failed or was cancelled before the QPU was locked for it used none.
  const ended = job.status !== 'Queued' && job.status !== 'Running';
  const ran = job.quantumSeconds ?? (ended ? 0 : undefined);
  return {
    timestamps: {
      created: job.timestamps.created,
      running: job.timestamps.running ?? null,
      finished: job.timestamps.finished ?? null,
    },
    ...(ran !== undefined && {
      usage: { quantum_seconds: ran, seconds: ran },
      bss: { seconds: Math.ceil(ran) },
    }),
    num_circuits: 1,
    executions: job.shots,
    qiskit_version: 'emulator',
  };
}

/** `GET /v1/jobs/{id}`: the job's status, and why it failed. */
export function jobView(job: EmulatedJob): unknown {
  return {
    id: job.id,
    backend: job.backend,
    created: job.created,
    program: { id: job.estimator ? 'estimator' : 'sampler' },
    cost: 600,
    status: job.status,
    state: {
      status: job.status,
      ...(job.reason !== undefined ? { reason: job.reason } : {}),
      ...(job.reasonCode !== undefined ? { reason_code: job.reasonCode } : {}),
    },
  };
}
