/** The quantum backend kinds, made from their configs. */
import type { Backend } from '../types.ts';
import { QuantumBackend, type QuantumBackendConfig } from './quantum-backend.ts';
import { checkSimulatorConfig, describeSimulator, simulatorSlots } from './simulator-runner.ts';
import { checkIbmQuantumConfig, clientFor, describeIbm, IbmSessionKeeper } from './ibm/index.ts';
import { checkBraketConfig, describeBraket } from './braket/index.ts';

export { QUANTUM_KIND_LABEL, type QuantumBackendKind } from './quantum-backend.ts';

/** A `quantum-simulator` backend. */
export function createSimulatorBackend(c: Record<string, unknown>): Backend {
  const config = checkSimulatorConfig(c);
  return new QuantumBackend(config as unknown as QuantumBackendConfig, simulatorSlots(config), async () =>
    describeSimulator(config),
  );
}

/** An `ibm-quantum` backend: Qiskit Runtime jobs, at most `maxConcurrentJobs` at once. */
export function createIbmQuantumBackend(c: Record<string, unknown>): Backend {
  const config = checkIbmQuantumConfig(c);
  // Batch and session modes keep one open per device; job mode needs no keeper.
  const keeper =
    config.mode === 'batch' || config.mode === 'session'
      ? new IbmSessionKeeper(config, () => clientFor(config))
      : undefined;
  return new QuantumBackend(
    config as unknown as QuantumBackendConfig,
    config.maxConcurrentJobs ?? 5,
    () => describeIbm(config),
    keeper,
  );
}

/** A `braket` backend: Amazon Braket quantum tasks, at most `maxConcurrentTasks` at once. */
export function createBraketBackend(c: Record<string, unknown>): Backend {
  const config = checkBraketConfig(c);
  return new QuantumBackend(config as unknown as QuantumBackendConfig, config.maxConcurrentTasks ?? 5, () =>
    describeBraket(config),
  );
}
