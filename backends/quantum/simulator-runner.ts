/** The `quantum-simulator` backend: config, and circuits run on the state-vector simulator in the task's worker. */
import { availableParallelism } from 'node:os';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { simulate } from './simulator/index.ts';
import { defaultMaxQubits, formatBytes, HARD_QUBIT_LIMIT, stateBytes } from './simulator/capacity.ts';
import type { CircuitResult, CircuitRun } from './run-types.ts';

/** Config of a `quantum-simulator` backend. */
export interface SimulatorConfig {
  readonly name: string;
  readonly kind: 'quantum-simulator';
  /** Largest circuit accepted (default: what fits in half of this machine's memory, at most 30). */
  readonly maxQubits?: number;
  /** Seed for sampling: the same circuit gives the same counts (default: random). */
  readonly seed?: number;
  /** Circuits simulated at once (default: the CPU count). */
  readonly maxConcurrent?: number;
}

const KEYS = new Set(['name', 'kind', 'maxQubits', 'seed', 'maxConcurrent']);

/** Validates a `quantum-simulator` config; errors name the field. */
export function checkSimulatorConfig(c: Record<string, unknown>): SimulatorConfig {
  for (const k of Object.keys(c))
    if (!KEYS.has(k))
      throw new TypeError(
        `backend ${String(c.name)}: unknown key ${k} for kind quantum-simulator; allowed: ${[...KEYS].join(', ')}`,
      );
  if (
    c.maxQubits !== undefined &&
    (!Number.isInteger(c.maxQubits) || (c.maxQubits as number) < 1 || (c.maxQubits as number) > HARD_QUBIT_LIMIT)
  ) {
    throw new TypeError(
      `backend ${String(c.name)}: maxQubits must be an integer from 1 to ${HARD_QUBIT_LIMIT} (a ${HARD_QUBIT_LIMIT}-qubit state takes ${formatBytes(stateBytes(HARD_QUBIT_LIMIT))})`,
    );
  }
  if (c.maxConcurrent !== undefined && (!Number.isInteger(c.maxConcurrent) || (c.maxConcurrent as number) < 1))
    throw new TypeError(`backend ${String(c.name)}: maxConcurrent must be a positive integer`);
  if (c.seed !== undefined && !Number.isInteger(c.seed))
    throw new TypeError(`backend ${String(c.name)}: seed must be an integer`);
  return c as unknown as SimulatorConfig;
}

/** QPU slots of a simulator node. */
export function simulatorSlots(c: SimulatorConfig): number {
  return c.maxConcurrent ?? availableParallelism();
}

/** What `orrery backends test` shows for a simulator. */
export function describeSimulator(c: SimulatorConfig): string[] {
  const n = c.maxQubits ?? defaultMaxQubits();
  return [
    `state-vector simulator: up to ${n} qubits (${formatBytes(stateBytes(n))} of state), ${simulatorSlots(c)} circuits at once`,
  ];
}

/** Simulates a circuit task. A `seed` on the task wins over the backend's. */
export async function runOnSimulator(c: SimulatorConfig, run: CircuitRun, seed?: number): Promise<CircuitResult> {
  if (run.device !== undefined && run.device !== 'simulator') {
    throw new BackendError(
      c.name,
      `device ${JSON.stringify(run.device)} is not on this backend: ${c.name} is a simulator (device 'simulator'); send the task to a hardware backend with the backend option or a placement rule`,
      false,
    );
  }
  const started = performance.now();
  const { counts } = simulate(run.circuit, {
    shots: run.shots,
    seed: seed ?? c.seed,
    maxQubits: c.maxQubits,
    backend: c.name,
  });
  return { counts, shots: run.shots, device: 'simulator', backend: c.name, durationMs: performance.now() - started };
}
