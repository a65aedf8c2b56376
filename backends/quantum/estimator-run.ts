/** What every Estimator runner (simulator, IBM Quantum, Braket) takes and returns inside a worker. */
import type { CircuitRun } from './run-types.ts';
import type { EstimatorResult } from './expectation.ts';
import type { PauliSum } from './observables.ts';

/** One Estimator task, parsed and parameter-bound, as a runner receives it. */
export interface EstimatorRun extends Omit<CircuitRun, 'shots'> {
  /** The observables, checked against the circuit's qubit count. */
  readonly observables: readonly PauliSum[];
  /** Shots per measurement basis; absent with precision, or for exact values on the simulator. */
  readonly shots?: number;
  /** Target standard error per observable; absent with shots. */
  readonly precision?: number;
}

/** What an Estimator task returns (orchestrator/api/estimator.ts): one value and std per observable. */
export interface EstimatorTaskResult extends EstimatorResult {
  /** The device that ran it (`simulator`, an IBM backend name, a Braket device ARN). */
  readonly device: string;
  /** The Orrery backend name (config `name`). */
  readonly backend: string;
  readonly durationMs: number;
  /** The service's job or quantum-task ids (one per measurement basis on Braket). */
  readonly jobIds?: readonly string[];
}
