/**
 * The body of a circuit task. It travels to the worker as source text like any task, so it
 * captures nothing; it imports the worker side by package name (a literal specifier: compilers
 * rewrite computed `import(x)` into a call of an injected helper the worker would not have).
 */
import type { CircuitCall, CircuitResult } from '../head/backend-registry.ts';

/** Runs a circuit call on the quantum backend of the worker's node. */
export async function runCircuitTask(call: CircuitCall): Promise<CircuitResult | CircuitResult[]> {
  if (!process.env.ORRERY_CIRCUIT_BACKEND) {
    throw new Error(
      'circuit tasks run only on nodes of a quantum backend (kinds quantum-simulator, ibm-quantum, braket); this task was placed elsewhere, probably because its resources option replaced the default { QPU: 1 }',
    );
  }
  const orrery = await import('orrery-compute');
  const { executeCircuit } = await import('orrery-compute/internal/circuit-task');
  const ctx = orrery.getRuntimeContext();
  return executeCircuit(call, {
    signal: ctx.signal ?? new AbortController().signal,
    report: (info) => orrery.recordTaskInfo(info),
    log: (line) => console.log(line),
    reserve: async (usd, what) => void (await orrery.reserveBudget(usd, what)),
  });
}
