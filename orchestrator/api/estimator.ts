/** `estimator()`: expectation values of observables as tasks on the quantum backends (Estimator primitive). */
import type { ObjectRef } from '../core/object-ref.ts';
import { shipCode } from '../core/function-source.ts';
import type { TaskOptions } from '../core/options.ts';
import {
  parseObservables,
  parseQasm,
  type EstimatorCall,
  type EstimatorTaskResult,
  type ObservableSpec,
} from '../head/backend-registry.ts';
import { RemoteFunction } from './remote-function.ts';
import { runEstimatorTask } from './estimator-runner.ts';

/**
 * An observable: a Pauli string with qubit 0 rightmost (`'XZ'` is Z on qubit 0, X on qubit 1), or
 * a real-weighted sum of them such as `{ ZZ: 0.5, XI: -1.2 }` (as Qiskit's SparsePauliOp).
 */
export type Observable = ObservableSpec;

/**
 * What an Estimator task returns: `values[i]` and `stds[i]` belong to observable i (stds are 0 for
 * exact values), plus where it ran and the service's job ids.
 */
export type EstimatorResult = EstimatorTaskResult;

/** Options of `estimator()`: TaskOptions plus shots or precision, device and seed. Default resources `{ QPU: 1 }`. */
export interface EstimatorOptions extends TaskOptions {
  /** Shots per measurement basis. Without shots and precision the simulator is exact; hardware uses its default. */
  shots?: number;
  /** Target standard error of each value (IBM's Estimator precision; 1/precision² shots elsewhere). Not with shots. */
  precision?: number;
  /** The device on the backend: an IBM backend name or `'least_busy'`, a Braket device ARN, `'simulator'`. */
  device?: string;
  /** Sampling seed on the simulator. */
  seed?: number;
}

const RUNNER = shipCode(runEstimatorTask);
const MAX_SHOTS = 10_000_000;

/** An Estimator task: `.remote(qasm, observables, params?)` returns a ref to `{ values, stds }`. */
export class EstimatorFunction {
  private readonly fn: RemoteFunction<[EstimatorCall], EstimatorResult>;

  /** @internal */
  constructor(private readonly given: EstimatorOptions) {
    const { shots, precision, device, seed, ...task } = given;
    if (shots !== undefined && precision !== undefined)
      throw new TypeError('estimator(): give shots or precision, not both (precision sets the shots)');
    if (shots !== undefined && (!Number.isInteger(shots) || shots < 1 || shots > MAX_SHOTS))
      throw new TypeError(`estimator(): option shots must be an integer from 1 to ${MAX_SHOTS} (got ${String(shots)})`);
    if (
      precision !== undefined &&
      (typeof precision !== 'number' || !(precision > 0) || precision >= 1 || !Number.isFinite(precision))
    )
      throw new TypeError(
        `estimator(): option precision must be a number above 0 and below 1, e.g. 0.01 (got ${String(precision)})`,
      );
    if (precision !== undefined && Math.ceil(1 / (precision * precision)) > MAX_SHOTS)
      throw new TypeError(
        `estimator(): option precision ${precision} would need more than ${MAX_SHOTS} shots; use at least ${1 / Math.sqrt(MAX_SHOTS)}`,
      );
    if (device !== undefined && (typeof device !== 'string' || device === ''))
      throw new TypeError('estimator(): option device must be a non-empty device name');
    if (seed !== undefined && !Number.isInteger(seed))
      throw new TypeError('estimator(): option seed must be an integer');
    this.fn = new RemoteFunction<[EstimatorCall], EstimatorResult>(
      RUNNER,
      { name: 'estimator', numCpus: 0, resources: { QPU: 1 }, ...task },
      // Placement rules, the dashboard's QASM view and a resumed head treat it as a circuit task.
      'circuit',
    );
  }

  /**
   * Submits an OpenQASM 2 or 3 program and one observable or a list of them; `params` bind its
   * `input float` parameters. The circuit's measurements are ignored. The program and the
   * observables are checked here, so a bad one throws at once (QasmError, or a TypeError naming
   * the observable).
   */
  remote(
    qasm: string,
    observables: Observable | readonly Observable[],
    params?: Record<string, number>,
  ): ObjectRef<EstimatorResult> {
    if (typeof qasm !== 'string')
      throw new TypeError('estimator().remote(qasm, observables, params?): qasm must be OpenQASM 2 or 3 source text');
    if (params !== undefined) {
      if (typeof params !== 'object' || params === null)
        throw new TypeError('estimator().remote: params must be an object of numbers, e.g. { theta: 0.5 }');
      for (const [k, v] of Object.entries(params))
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new TypeError(`estimator().remote: parameter ${k} must be a finite number (got ${String(v)})`);
    }
    const circuit = parseQasm(qasm, params);
    const list: Observable[] = Array.isArray(observables)
      ? [...(observables as Observable[])]
      : [observables as Observable];
    parseObservables(list, circuit.numQubits);
    const { shots, precision, device, seed } = this.given;
    return this.fn.remote({
      source: qasm,
      observables: list.map((o) => (typeof o === 'string' ? o : { ...o })),
      ...(params !== undefined && { params }),
      ...(shots !== undefined && { shots }),
      ...(precision !== undefined && { precision }),
      ...(device !== undefined && { device }),
      ...(seed !== undefined && { seed }),
    });
  }

  /** A copy with these options merged over the current ones. */
  options(o: EstimatorOptions): EstimatorFunction {
    return new EstimatorFunction({ ...this.given, ...o });
  }
}

/** Makes an Estimator task: `.remote(qasm, observables, params?)` estimates expectation values on a quantum backend. */
export function estimator(options: EstimatorOptions = {}): EstimatorFunction {
  return new EstimatorFunction(options);
}
