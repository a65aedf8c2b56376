/** `circuit()`: OpenQASM circuits as tasks on the quantum backends (simulator, IBM Quantum, Braket). */
import type { ObjectRef } from '../core/object-ref.ts';
import { shipCode } from '../core/function-source.ts';
import type { TaskOptions } from '../core/options.ts';
import {
  checkBraketOptions,
  checkIbmPrimitiveOptions,
  type BraketOptions,
  parseQasm,
  type CircuitCall,
  type CircuitResult,
  type IbmPrimitiveOptions,
} from '../head/backend-registry.ts';
import { RemoteFunction } from './remote-function.ts';
import { runCircuitTask } from './circuit-runner.ts';

export type { CircuitResult } from '../head/backend-registry.ts';

/** Options of `circuit()`: TaskOptions plus shots, device and seed. Default resources `{ QPU: 1 }`, no CPU. */
export interface CircuitOptions extends TaskOptions {
  /** Measurement shots (default 1024). */
  shots?: number;
  /** The device on the backend: an IBM backend name or `'least_busy'`, a Braket device ARN, `'simulator'`. */
  device?: string;
  /** Sampling seed on the simulator: the same circuit and seed give the same counts. */
  seed?: number;
  /**
   * Qiskit Runtime Sampler V2 options for an ibm-quantum backend (`twirling`,
   * `dynamical_decoupling`, `execution`, `max_execution_time`), sent as the job's
   * `params.options` over the backend's `ibmOptions`, key by key. Checked at `.remote()`.
   */
  ibmOptions?: IbmPrimitiveOptions;
  /** Braket device parameters for a braket backend (`disableQubitRewiring`, `errorMitigation: 'debias'`). Checked at `.remote()`, and against the device before submission. */
  braketOptions?: BraketOptions;
}

const RUNNER = shipCode(runCircuitTask);
const MAX_SHOTS = 10_000_000;

/** A circuit task: `.remote(qasm, params?)` returns a ref to its measurement counts. */
export class CircuitFunction {
  private readonly fn: RemoteFunction<[CircuitCall], CircuitResult>;
  private readonly sweepFn: RemoteFunction<[CircuitCall], CircuitResult[]>;
  private readonly shots: number;

  /** @internal */
  constructor(private readonly given: CircuitOptions) {
    const { shots = 1024, device, seed, ibmOptions, braketOptions, ...task } = given;
    if (!Number.isInteger(shots) || shots < 1 || shots > MAX_SHOTS)
      throw new TypeError(`circuit(): option shots must be an integer from 1 to ${MAX_SHOTS} (got ${String(shots)})`);
    if (device !== undefined && (typeof device !== 'string' || device === ''))
      throw new TypeError('circuit(): option device must be a non-empty device name');
    if (seed !== undefined && !Number.isInteger(seed)) throw new TypeError('circuit(): option seed must be an integer');
    this.shots = shots;
    this.fn = new RemoteFunction<[CircuitCall], CircuitResult>(
      RUNNER,
      { name: 'circuit', numCpus: 0, resources: { QPU: 1 }, ...task },
      'circuit',
    );
    this.sweepFn = new RemoteFunction<[CircuitCall], CircuitResult[]>(
      RUNNER,
      { name: 'circuit', numCpus: 0, resources: { QPU: 1 }, ...task },
      'circuit',
    );
  }

  /**
   * Submits an OpenQASM 2 or 3 program; `params` bind its `input float` parameters. The program is
   * parsed here first, so a syntax error, an unknown gate or a missing parameter throws at once
   * (QasmError with line and column) instead of failing on the backend.
   */
  remote(qasm: string, params?: Record<string, number>): ObjectRef<CircuitResult> {
    checkSource(qasm, 'remote(qasm, params?)');
    if (params !== undefined) checkParams(params, 'circuit().remote');
    parseQasm(qasm, params);
    return this.fn.remote({ ...this.call(qasm), ...(params !== undefined && { params }) });
  }

  /**
   * A parameter sweep as ONE task: the program runs once per binding of `paramSets` and the ref
   * resolves to one result per binding, in order. On a batching backend (ibm-quantum's
   * `batchWindowMs`) the bindings go out together in one job; on the simulator they run one
   * after another in the task. Every binding is checked here, as `.remote()` does.
   */
  map(qasm: string, paramSets: readonly Record<string, number>[]): ObjectRef<CircuitResult[]> {
    checkSource(qasm, 'map(qasm, paramSets)');
    if (!Array.isArray(paramSets) || paramSets.length === 0)
      throw new TypeError(
        'circuit().map(qasm, paramSets): paramSets must be a non-empty array of parameter objects, e.g. [{ theta: 0.1 }, { theta: 0.2 }]',
      );
    paramSets.forEach((p, i) => {
      checkParams(p, `circuit().map: paramSets[${i}]`);
      parseQasm(qasm, p);
    });
    return this.sweepFn.remote({ ...this.call(qasm), sweep: paramSets.map((p) => ({ ...p })) });
  }

  /**
   * The call's plain data. Absent options are left out rather than set to undefined: the call
   * stays plain data, so a session records it (params_json: the dashboard's replay shows the
   * QASM, a resume rebuilds it).
   */
  private call(qasm: string): CircuitCall {
    const { device, seed, ibmOptions, braketOptions } = this.given;
    if (ibmOptions !== undefined) checkIbmPrimitiveOptions(ibmOptions, 'sampler', 'circuit().remote()');
    if (braketOptions !== undefined) checkBraketOptions(braketOptions, 'circuit().remote()');
    return {
      source: qasm,
      shots: this.shots,
      ...(device !== undefined && { device }),
      ...(seed !== undefined && { seed }),
      ...(ibmOptions !== undefined && { ibmOptions: ibmOptions as Record<string, unknown> }),
      ...(braketOptions !== undefined && { braketOptions: braketOptions as Record<string, unknown> }),
    };
  }

  /** A copy with these options merged over the current ones. */
  options(o: CircuitOptions): CircuitFunction {
    return new CircuitFunction({ ...this.given, ...o });
  }
}

function checkSource(qasm: unknown, signature: string): void {
  if (typeof qasm !== 'string') throw new TypeError(`circuit().${signature}: qasm must be OpenQASM 2 or 3 source text`);
}

function checkParams(params: unknown, where: string): void {
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw new TypeError(`${where}: params must be an object of numbers, e.g. { theta: 0.5 }`);
  for (const [k, v] of Object.entries(params))
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TypeError(`${where}: parameter ${k} must be a finite number (got ${String(v)})`);
}

/** Makes a circuit task: `.remote(qasm, params?)` runs an OpenQASM program on a quantum backend. */
export function circuit(options: CircuitOptions = {}): CircuitFunction {
  return new CircuitFunction(options);
}
