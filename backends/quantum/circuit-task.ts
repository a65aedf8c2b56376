/**
 * The worker side of a circuit task (`orrery-compute/internal/circuit-task`): loaded inside the worker
 * that runs the task on a quantum node. Parses and binds the QASM, then hands the circuit to the
 * runner of the node's backend kind, whose config the node's environment carries; on a batching
 * backend the circuit goes to the backend's batcher instead (batching/batch-client.ts).
 */
import { BackendError } from '../../orchestrator/core/errors.ts';
import { parseQasm } from './qasm/index.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from './run-types.ts';
import { CIRCUIT_ENV, type QuantumBackendConfig } from './quantum-backend.ts';
import { runOnSimulator } from './simulator-runner.ts';
import { reserveIbmJob, runOnIbm } from './ibm/index.ts';
import { reserveBraketTask, runOnBraket, runSweepOnBraket } from './braket/index.ts';
import { BATCHER_SOCKET_ENV } from './batching/batch-wire.ts';
import { runThroughBatcher } from './batching/batch-client.ts';

/** A circuit call as the task function receives it. */
export interface CircuitCall {
  readonly source: string;
  readonly params?: Readonly<Record<string, number>>;
  readonly shots: number;
  readonly device?: string;
  readonly seed?: number;
  /** Qiskit Runtime options for an ibm-quantum backend (checked at `.remote()`). */
  readonly ibmOptions?: Readonly<Record<string, unknown>>;
  /** Braket device parameters (checked at `.remote()`). */
  readonly braketOptions?: Readonly<Record<string, unknown>>;
  /** Set when a resumed head resubmits a task whose remote job is known (see CircuitRun.resumeJobId). */
  readonly resumeJobId?: string;
  /**
   * A parameter sweep (`circuit().map`): the circuit runs once per binding (`params` is then
   * unused) and the task returns one result per binding, in order.
   */
  readonly sweep?: readonly Readonly<Record<string, number>>[];
}

/** What the running task lends the runner: cancellation, task facts and its log. */
export interface TaskHooks {
  readonly signal: AbortSignal;
  report(info: TaskInfo): void;
  log(line: string): void;
  /** Reserves a job's estimated cost against the head's budgets (CircuitRun.reserve). */
  reserve?(estimateUsd: number, what: string): Promise<void>;
}

/**
 * Runs a circuit call on this node's quantum backend: one circuit, or a sweep's bindings (on a
 * batching backend they reach the batcher together and go out as one job, one PUB each). A
 * resumed sweep runs again: the recorded job names one PUB, not the sweep's.
 */
export function executeCircuit(
  call: CircuitCall & { readonly sweep?: undefined },
  hooks: TaskHooks,
): Promise<CircuitResult>;
export function executeCircuit(call: CircuitCall, hooks: TaskHooks): Promise<CircuitResult | CircuitResult[]>;
export async function executeCircuit(call: CircuitCall, hooks: TaskHooks): Promise<CircuitResult | CircuitResult[]> {
  const { sweep, resumeJobId, ...one } = call;
  if (!sweep) return executeOne(call, hooks);
  const braket = braketWithoutBatcher();
  if (braket) return runSweepOnBraket(braket as never, { ...one, bindings: sweep, hooks });
  return Promise.all(sweep.map((params) => executeOne({ ...one, params }, hooks)));
}

/** The backend's config when it is a braket backend whose circuits do not go through a batcher. */
function braketWithoutBatcher(): QuantumBackendConfig | undefined {
  const raw = process.env[CIRCUIT_ENV.config];
  const config = raw ? (JSON.parse(raw) as QuantumBackendConfig) : undefined;
  return config?.kind === 'braket' && !process.env[BATCHER_SOCKET_ENV] ? config : undefined;
}

async function executeOne(call: CircuitCall, hooks: TaskHooks): Promise<CircuitResult> {
  const raw = process.env[CIRCUIT_ENV.config];
  if (!raw) throw new BackendError('quantum', 'this worker was not started by a quantum backend', false);
  const config = JSON.parse(raw) as QuantumBackendConfig;
  const batcher = process.env[BATCHER_SOCKET_ENV];
  if (batcher) {
    const { source, params, shots, device, resumeJobId, ibmOptions, braketOptions } = call;
    // The batcher (in the head) shares the job's cost out; each circuit reserves a job's estimate first.
    if (config.kind === 'ibm-quantum' && !resumeJobId)
      await reserveIbmJob(config as never, hooks, device ?? String(config.device ?? 'the least busy device'), 1, shots);
    if (config.kind === 'braket' && !resumeJobId)
      await reserveBraketTask(hooks.reserve, device ?? String(config.deviceArn), shots);
    return runThroughBatcher(
      config.name,
      batcher,
      {
        type: 'run',
        source,
        shots,
        ...(params && { params }),
        ...(device && { device }),
        ...(resumeJobId && { resumeJobId }),
        ...(ibmOptions && { ibmOptions }),
        ...(braketOptions && { braketOptions }),
      },
      hooks,
    );
  }
  const run: CircuitRun = {
    circuit: parseQasm(call.source, call.params),
    source: call.source,
    shots: call.shots,
    device: call.device,
    resumeJobId: call.resumeJobId,
    ...(call.params !== undefined && { params: call.params }),
    ...(call.ibmOptions !== undefined && { ibmOptions: call.ibmOptions }),
    ...(call.braketOptions !== undefined && { braketOptions: call.braketOptions }),
    signal: hooks.signal,
    report: hooks.report,
    log: hooks.log,
    reserve: hooks.reserve,
  };
  switch (config.kind) {
    case 'quantum-simulator':
      return runOnSimulator(config as never, run, call.seed);
    case 'ibm-quantum':
      return runOnIbm(config as never, run);
    case 'braket':
      return runOnBraket(config as never, run);
  }
}

export { executeEstimator, type EstimatorCall } from './estimator-task.ts';
