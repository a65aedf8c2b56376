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
import { LEAST_BUSY, reserveIbmJob, runOnIbm, runSweepOnIbm, type IbmQuantumConfig } from './ibm/index.ts';
import { reserveBraketTask, runOnBraket, runSweepOnBraket } from './braket/index.ts';
import { BATCHER_SOCKET_ENV } from './batching/batch-wire.ts';
import { runSweepThroughBatcher, runThroughBatcher } from './batching/batch-client.ts';

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
 * Runs a circuit call on this node's quantum backend: one circuit, or a sweep's bindings. On
 * ibm-quantum a sweep is one unit: one PUB with parameter_values (ibm/sweep-pub.ts), through the
 * batcher when the backend batches; a resumed sweep follows its recorded job(s) again. Other
 * kinds run one bound circuit per binding.
 */
export function executeCircuit(
  call: CircuitCall & { readonly sweep?: undefined },
  hooks: TaskHooks,
): Promise<CircuitResult>;
export function executeCircuit(call: CircuitCall, hooks: TaskHooks): Promise<CircuitResult | CircuitResult[]>;
export async function executeCircuit(call: CircuitCall, hooks: TaskHooks): Promise<CircuitResult | CircuitResult[]> {
  const { sweep, resumeJobId, ...one } = call;
  if (!sweep) return executeOne(call, hooks);
  const config = workerConfig();
  if (config.kind === 'ibm-quantum') return executeIbmSweep(config as never, call, sweep, hooks);
  // A braket backend whose circuits do not go through a batcher still sends the sweep as one program with input sets.
  if (config.kind === 'braket' && !process.env[BATCHER_SOCKET_ENV])
    return runSweepOnBraket(config as never, { ...one, bindings: sweep, hooks });
  return Promise.all(sweep.map((params) => executeOne({ ...one, params }, hooks)));
}

function workerConfig(): QuantumBackendConfig {
  const raw = process.env[CIRCUIT_ENV.config];
  if (!raw) throw new BackendError('quantum', 'this worker was not started by a quantum backend', false);
  return JSON.parse(raw) as QuantumBackendConfig;
}

/** What a reservation names as the device: the task's, else the backend's, else the one chosen per job. */
function reservedDevice(config: { readonly device?: unknown }, device: string | undefined): string {
  const named = device ?? (typeof config.device === 'string' ? config.device : undefined);
  return named && named !== LEAST_BUSY ? named : 'the least busy device';
}

/** A sweep on ibm-quantum: one PUB with one parameter_values row per binding (the batcher keeps it whole). */
async function executeIbmSweep(
  config: IbmQuantumConfig,
  call: CircuitCall,
  sweep: readonly Readonly<Record<string, number>>[],
  hooks: TaskHooks,
): Promise<CircuitResult[]> {
  const { source, shots, device, resumeJobId, ibmOptions } = call;
  const batcher = process.env[BATCHER_SOCKET_ENV];
  if (batcher) {
    if (!resumeJobId) await reserveIbmJob(config, hooks, reservedDevice(config, device), sweep.length, shots);
    const message = {
      type: 'run',
      source,
      shots,
      sweep,
      ...(device && { device }),
      ...(resumeJobId && { resumeJobId }),
      ...(ibmOptions && { ibmOptions }),
    } as const;
    return [...(await runSweepThroughBatcher(config.name, batcher, message, hooks))];
  }
  const bound = sweep.map((p) => parseQasm(source, p));
  return [
    ...(await runSweepOnIbm(config, {
      circuit: bound[0]!,
      sweep: bound,
      source,
      shots,
      device,
      resumeJobId,
      ...(ibmOptions !== undefined && { ibmOptions }),
      signal: hooks.signal,
      report: hooks.report,
      log: hooks.log,
      reserve: hooks.reserve,
    })),
  ];
}

async function executeOne(call: CircuitCall, hooks: TaskHooks): Promise<CircuitResult> {
  const config = workerConfig();
  const batcher = process.env[BATCHER_SOCKET_ENV];
  if (batcher) {
    const { source, params, shots, device, resumeJobId, ibmOptions, braketOptions } = call;
    // The batcher (in the head) shares the job's cost out; each circuit reserves a job's estimate first.
    if (config.kind === 'ibm-quantum' && !resumeJobId)
      await reserveIbmJob(config as never, hooks, reservedDevice(config as { device?: unknown }, device), 1, shots);
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
