/** What every circuit runner (simulator, IBM Quantum, Braket) takes and returns inside a worker. */
import type { Circuit, Counts } from './circuit.ts';

/** Facts a runner records on its task (job id, queue position, cost): shown by the State API and the dashboard. */
export type TaskInfo = Record<string, string | number | boolean>;

/** One circuit task, parsed and parameter-bound, as a runner receives it. */
export interface CircuitRun {
  readonly circuit: Circuit;
  /** The OpenQASM source as the user wrote it (services that take QASM may prefer it for messages). */
  readonly source: string;
  readonly shots: number;
  /** The task's `device` option, if any (IBM backend name, Braket device ARN, ...). */
  readonly device: string | undefined;
  /** The values bound to the program's `input`s, if any (a Braket program set sends them as the program's input sets). */
  readonly params?: Readonly<Record<string, number>>;
  /**
   * A job this task already submitted (to a head that died; kept in the session): the runner
   * follows that job instead of submitting a new one, so the circuit is not run twice.
   */
  readonly resumeJobId?: string;
  /**
   * A parameter sweep's bound circuits, one per binding (`circuit` is the first): a runner that
   * takes sweeps (IBM: one PUB with parameter_values) returns one result per binding, in order.
   */
  readonly sweep?: readonly Circuit[];
  /** Qiskit Runtime options of the task (`circuit({ ibmOptions })`), checked at `.remote()`; merged over the backend's. */
  readonly ibmOptions?: Readonly<Record<string, unknown>>;
  /** Braket device parameters of the task (`circuit({ braketOptions })`), checked at `.remote()`. */
  readonly braketOptions?: Readonly<Record<string, unknown>>;
  /** Aborted when the task is cancelled: runners cancel their remote job and stop polling. */
  readonly signal: AbortSignal;
  /** Records facts on the task; call again to update (e.g. queue position while polling). */
  report(info: TaskInfo): void;
  /** A line for the task's log (shown live on the driver). */
  log(line: string): void;
  /**
   * Reserves a paid job's estimated cost against the head's budgets before it is submitted
   * (rejects with BudgetExceededError); absent where no head keeps budgets (unit tests).
   */
  reserve?(estimateUsd: number, what: string): Promise<void>;
}

/** What a circuit task returns (orchestrator/api/circuit.ts). */
export interface CircuitResult {
  readonly counts: Counts;
  readonly shots: number;
  /** The device that ran it (`simulator`, an IBM backend name, a Braket device ARN). */
  readonly device: string;
  /** The Orrery backend name (config `name`). */
  readonly backend: string;
  readonly durationMs: number;
  /** The service's job or quantum-task id. */
  readonly jobId?: string;
}
