/** The quantum backend kinds, made from their configs. */
import type { Backend } from '../types.ts';
import { QuantumBackend, type QuantumBackendConfig } from './quantum-backend.ts';
import { checkSimulatorConfig, describeSimulator, simulatorSlots } from './simulator-runner.ts';
import {
  checkIbmQuantumConfig,
  clientFor,
  DEFAULT_BATCH_WINDOW_MS,
  describeIbm,
  IBM_SESSION_ENV,
  IbmSessionKeeper,
  runIbmBatch,
  runIbmEstimatorBatch,
} from './ibm/index.ts';
import { checkBraketConfig, DEFAULT_BRAKET_BATCH_WINDOW_MS, describeBraket, runBraketBatch } from './braket/index.ts';

export { QUANTUM_KIND_LABEL, type QuantumBackendKind } from './quantum-backend.ts';

/** A `quantum-simulator` backend. */
export function createSimulatorBackend(c: Record<string, unknown>): Backend {
  const config = checkSimulatorConfig(c);
  return new QuantumBackend(config as unknown as QuantumBackendConfig, simulatorSlots(config), async () =>
    describeSimulator(config),
  );
}

/**
 * Circuit tasks a batching backend's node takes at once per job it may have on the service: the
 * circuits in flight, not the jobs, fill QPU slots when circuits are batched.
 */
export const CIRCUITS_PER_JOB_SLOT = 8;

/**
 * An `ibm-quantum` backend: Qiskit Runtime jobs, at most `maxConcurrentJobs` at once. With
 * `batchWindowMs` > 0 (default 50) circuit tasks ready together go out as one job, one PUB each
 * (and Estimator tasks likewise, as one Estimator job).
 */
export function createIbmQuantumBackend(c: Record<string, unknown>): Backend {
  const config = checkIbmQuantumConfig(c);
  // Batch and session modes keep one open per device; job mode needs no keeper.
  const keeper =
    config.mode === 'batch' || config.mode === 'session'
      ? new IbmSessionKeeper(config, () => clientFor(config))
      : undefined;
  const jobs = config.maxConcurrentJobs ?? 5;
  const windowMs = config.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  const describe = () => describeIbm(config);
  const generic = config as unknown as QuantumBackendConfig;
  if (windowMs === 0) return new QuantumBackend(generic, jobs, describe, keeper);
  return new QuantumBackend(generic, jobs * CIRCUITS_PER_JOB_SLOT, describe, keeper, {
    windowMs,
    maxBatchesInFlight: jobs,
    runner: (runs, env) => runIbmBatch(config, runs, env[IBM_SESSION_ENV]),
    estimateRunner: (runs, env) => runIbmEstimatorBatch(config, runs, env[IBM_SESSION_ENV]),
  });
}

/**
 * A `braket` backend: Amazon Braket quantum tasks, at most `maxConcurrentTasks` at once. With
 * `batchWindowMs` > 0 (default 50) circuit tasks ready together go out as one program set where
 * the device lists program sets (braket/program-set-runner.ts).
 */
export function createBraketBackend(c: Record<string, unknown>): Backend {
  const config = checkBraketConfig(c);
  const tasks = config.maxConcurrentTasks ?? 5;
  const windowMs = config.batchWindowMs ?? DEFAULT_BRAKET_BATCH_WINDOW_MS;
  const describe = () => describeBraket(config);
  const generic = config as unknown as QuantumBackendConfig;
  if (windowMs === 0) return new QuantumBackend(generic, tasks, describe);
  return new QuantumBackend(generic, tasks * CIRCUITS_PER_JOB_SLOT, describe, undefined, {
    windowMs,
    maxBatchesInFlight: tasks,
    runner: (runs) => runBraketBatch(config, runs),
  });
}
