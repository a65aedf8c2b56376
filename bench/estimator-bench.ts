/**
 * The simulator's Estimator throughput: estimates per second for a 4-qubit, 5-term Hamiltonian
 * on a parameterised ansatz, exact (state vector) and sampled (1000 shots per measurement basis),
 * timed as an Estimator task's worker does the work (parse the QASM with new angles, check the
 * observable, estimate), in this process without the head.
 *
 *   npx tsx bench/estimator-bench.ts [--quick]
 *
 * Prints one JSON object per line (`metric`, `value`, `unit`, `system`, plus details).
 */
import { fileURLToPath } from 'node:url';
import { parseQasm } from '../backends/quantum/qasm/index.ts';
import { parseObservables } from '../backends/quantum/observables.ts';
import { measurementPlan } from '../backends/quantum/expectation.ts';
import { estimateOnSimulator } from '../backends/quantum/simulator-estimator.ts';

/** Two layers of ry on every qubit with a cx chain between: 8 angles. */
const ANSATZ = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t0; input float[64] t1; input float[64] t2; input float[64] t3;
input float[64] t4; input float[64] t5; input float[64] t6; input float[64] t7;
qubit[4] q;
ry(t0) q[0]; ry(t1) q[1]; ry(t2) q[2]; ry(t3) q[3];
cx q[0], q[1]; cx q[1], q[2]; cx q[2], q[3];
ry(t4) q[0]; ry(t5) q[1]; ry(t6) q[2]; ry(t7) q[3];
`;

/** A transverse-field-Ising-like Hamiltonian: 5 terms in 3 measurement bases (ZZ.., XXXX, YY..). */
const HAMILTONIAN = { ZZII: 0.5, IZZI: 0.5, IIZZ: 0.5, XXXX: 0.2, IIYY: -0.3 };
const SIM = { name: 'bench', kind: 'quantum-simulator' as const };

function estimatesPerSecond(shots: number | undefined, seconds: number): { rate: number; count: number } {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const params: Record<string, number> = {};
    for (let i = 0; i < 8; i++) params[`t${i}`] = Math.sin(count + i);
    const circuit = parseQasm(ANSATZ, params);
    estimateOnSimulator(
      SIM,
      {
        circuit,
        source: ANSATZ,
        observables: parseObservables([HAMILTONIAN], 4),
        shots,
        device: undefined,
        signal: new AbortController().signal,
        report: () => {},
        log: () => {},
      },
      count,
    );
    count++;
  }
  return { rate: count / ((performance.now() - started) / 1000), count };
}

/** Runs the benchmark and returns its result lines. */
export function runEstimatorBench(options: { quick?: boolean } = {}): Record<string, unknown>[] {
  const seconds = options.quick ? 1 : 3;
  estimatesPerSecond(undefined, 0.2);
  const exact = estimatesPerSecond(undefined, seconds);
  const sampled = estimatesPerSecond(1000, seconds);
  const bases = measurementPlan(parseObservables([HAMILTONIAN], 4)).length;
  const common = { unit: 'estimates/s', system: 'orrery', qubits: 4, terms: 5, bases };
  return [
    { metric: 'estimator_sim_exact_per_s', value: Math.round(exact.rate), ...common, estimates: exact.count },
    {
      metric: 'estimator_sim_sampled_per_s',
      value: Math.round(sampled.rate),
      ...common,
      shotsPerBasis: 1000,
      estimates: sampled.count,
    },
  ];
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain)
  for (const line of runEstimatorBench({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify(line));
