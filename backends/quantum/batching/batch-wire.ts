/**
 * Messages between a circuit task's worker and its backend's batcher (one connection per task,
 * one JSON object per line). The worker sends `run` (and `cancel` if the task is cancelled); the
 * batcher answers with the task's `report`s and `log` lines, then one `result` or `error`.
 */
import type { ErrorInfo } from '../../../orchestrator/core/errors.ts';
import type { CircuitResult, TaskInfo } from '../run-types.ts';
import type { EstimatorTaskResult } from '../estimator-run.ts';
import type { ObservableSpec } from '../observables.ts';

/** Worker to batcher. */
export type ToBatcher =
  | {
      readonly type: 'run';
      readonly source: string;
      readonly params?: Readonly<Record<string, number>>;
      readonly shots: number;
      readonly device?: string;
      readonly resumeJobId?: string;
      /** The task's Qiskit Runtime options (circuits with other options go in other jobs). */
      readonly ibmOptions?: Readonly<Record<string, unknown>>;
      /** The task's Braket device parameters (circuits with other parameters go in other quantum tasks). */
      readonly braketOptions?: Readonly<Record<string, unknown>>;
      /** A parameter sweep: one binding each (`params` unused); the answer is `results`, one per binding. */
      readonly sweep?: readonly Readonly<Record<string, number>>[];
    }
  | {
      /** An Estimator task: batched apart from circuits (one primitive per job); answered by `estimated`. */
      readonly type: 'estimate';
      readonly source: string;
      readonly params?: Readonly<Record<string, number>>;
      readonly observables: readonly ObservableSpec[];
      readonly shots?: number;
      readonly precision?: number;
      readonly device?: string;
      readonly resumeJobId?: string;
    }
  | { readonly type: 'cancel' };

/** Batcher to worker. */
export type FromBatcher =
  | { readonly type: 'report'; readonly info: TaskInfo }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'result'; readonly result: CircuitResult }
  | { readonly type: 'estimated'; readonly result: EstimatorTaskResult }
  | { readonly type: 'results'; readonly results: readonly CircuitResult[] }
  | { readonly type: 'error'; readonly error: ErrorInfo };

/** The environment variable naming the batcher's socket in a circuit task's worker. */
export const BATCHER_SOCKET_ENV = 'ORRERY_CIRCUIT_BATCHER';
