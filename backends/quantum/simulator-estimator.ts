/** Estimator tasks on the `quantum-simulator` backend: exact from the state vector, or sampled per measurement basis. */
import { BackendError } from '../../orchestrator/core/errors.ts';
import { checkCapacity } from './simulator/capacity.ts';
import { finalState, simulate } from './simulator/index.ts';
import {
  estimatesFromCounts,
  exactExpectations,
  measurementPlan,
  rotatedCircuit,
  shotsForPrecision,
} from './expectation.ts';
import type { EstimatorRun, EstimatorTaskResult } from './estimator-run.ts';
import type { SimulatorConfig } from './simulator-runner.ts';

/**
 * Estimates on the simulator. Without shots or precision the values are exact (stds 0); with
 * them each qubit-wise commuting group of terms is sampled in its own rotated basis. A task
 * `seed` wins over the backend's; basis b is sampled with seed + b so bases are independent.
 */
export function estimateOnSimulator(c: SimulatorConfig, run: EstimatorRun, seed?: number): EstimatorTaskResult {
  if (run.device !== undefined && run.device !== 'simulator') {
    throw new BackendError(
      c.name,
      `device ${JSON.stringify(run.device)} is not on this backend: ${c.name} is a simulator (device 'simulator'); send the task to a hardware backend with the backend option or a placement rule`,
      false,
    );
  }
  const started = performance.now();
  const shots = run.shots ?? (run.precision !== undefined ? shotsForPrecision(run.precision) : undefined);
  let result: { values: number[]; stds: number[] };
  if (shots === undefined) {
    checkCapacity(run.circuit.numQubits, c.maxQubits, c.name);
    if (run.circuit.ops.some((op) => op.kind === 'reset'))
      throw new BackendError(
        c.name,
        'the circuit has a reset, so it has no single final state for exact expectation values; give the estimator shots or precision to sample it instead',
        false,
      );
    const { re, im } = finalState(run.circuit);
    result = exactExpectations(re, im, run.observables);
  } else {
    const plan = measurementPlan(run.observables);
    const base = seed ?? c.seed;
    const counts = plan.map(
      (b, i) =>
        simulate(rotatedCircuit(run.circuit, b.basis), {
          shots,
          seed: base === undefined ? undefined : base + i,
          maxQubits: c.maxQubits,
          backend: c.name,
        }).counts,
    );
    result = estimatesFromCounts(run.observables, plan, counts);
  }
  return { ...result, device: 'simulator', backend: c.name, durationMs: performance.now() - started };
}
