/**
 * The worker side of an Estimator task, loaded through `orrery-compute/internal/circuit-task`
 * (circuit-task.ts re-exports it): parses and binds the QASM, checks the observables against it,
 * and hands both to the Estimator runner of the node's backend kind; on a batching ibm-quantum
 * backend the task goes to the backend's batcher instead (one Estimator job for the tasks ready
 * together), and on a batching braket backend its basis circuits do (one program set).
 */
import { BackendError } from '../../orchestrator/core/errors.ts';
import { parseQasm } from './qasm/index.ts';
import type { CircuitRun } from './run-types.ts';
import type { EstimatorRun, EstimatorTaskResult } from './estimator-run.ts';
import { parseObservables, type ObservableSpec } from './observables.ts';
import { CIRCUIT_ENV, type QuantumBackendConfig } from './quantum-backend.ts';
import { estimateOnSimulator } from './simulator-estimator.ts';
import { estimateOnIbm } from './ibm/estimator-runner.ts';
import { estimateOnBraket } from './braket/estimator-runner.ts';
import { reserveBraketTask } from './braket/pricing.ts';
import type { BraketConfig } from './braket/config.ts';
import { BATCHER_SOCKET_ENV } from './batching/batch-wire.ts';
import { runThroughBatcher } from './batching/batch-client.ts';
import { reserveIbmJob } from './ibm/job-cost.ts';
import { estimatorShots } from './ibm/estimator-batch.ts';

/** An Estimator call as the task function receives it (plain data: sessions record it). */
export interface EstimatorCall {
  readonly source: string;
  readonly observables: readonly ObservableSpec[];
  readonly params?: Readonly<Record<string, number>>;
  readonly shots?: number;
  readonly precision?: number;
  readonly device?: string;
  readonly seed?: number;
  /** Set when a resumed head resubmits a task whose remote job is known. */
  readonly resumeJobId?: string;
}

/** What the running task lends the runner (as circuit-task.ts's TaskHooks). */
export type EstimatorHooks = Pick<CircuitRun, 'signal' | 'report' | 'log' | 'reserve'>;

/** Runs one Estimator call on this node's quantum backend. */
export async function executeEstimator(call: EstimatorCall, hooks: EstimatorHooks): Promise<EstimatorTaskResult> {
  const raw = process.env[CIRCUIT_ENV.config];
  if (!raw) throw new BackendError('quantum', 'this worker was not started by a quantum backend', false);
  const config = JSON.parse(raw) as QuantumBackendConfig;
  const circuit = parseQasm(call.source, call.params);
  const run: EstimatorRun = {
    circuit,
    source: call.source,
    observables: parseObservables(call.observables, circuit.numQubits),
    shots: call.shots,
    precision: call.precision,
    device: call.device,
    resumeJobId: call.resumeJobId,
    signal: hooks.signal,
    report: hooks.report,
    log: hooks.log,
    reserve: hooks.reserve,
  };
  const batcher = process.env[BATCHER_SOCKET_ENV];
  if (batcher && config.kind === 'ibm-quantum') {
    const { source, observables, params, shots, precision, device, resumeJobId } = call;
    // The batcher (in the head) shares the job's cost out; each task reserves a job's estimate first.
    if (!resumeJobId)
      await reserveIbmJob(
        config as never,
        hooks,
        device ?? String(config.device ?? 'the least busy device'),
        1,
        estimatorShots(run),
      );
    return runThroughBatcher(
      config.name,
      batcher,
      {
        type: 'estimate',
        source,
        observables,
        ...(params && { params }),
        ...(shots !== undefined && { shots }),
        ...(precision !== undefined && { precision }),
        ...(device && { device }),
        ...(resumeJobId && { resumeJobId }),
      },
      hooks,
    );
  }
  switch (config.kind) {
    case 'quantum-simulator':
      return estimateOnSimulator(config as never, run, call.seed);
    case 'ibm-quantum':
      return estimateOnIbm(config as never, run);
    case 'braket': {
      const braket = config as unknown as BraketConfig;
      if (!batcher) return estimateOnBraket(braket, run);
      // Each basis circuit joins the batcher like a circuit task (reserving its estimate first): one program set for them all.
      return estimateOnBraket(braket, run, async (basis) => {
        await reserveBraketTask(basis.reserve, basis.device ?? braket.deviceArn, basis.shots);
        const { source, shots, device } = basis;
        return runThroughBatcher(
          config.name,
          batcher,
          { type: 'run', source, shots, ...(device && { device }) },
          basis,
        );
      });
    }
  }
}
