/**
 * A hybrid quantum-classical job: the variational quantum eigensolver (VQE) for the hydrogen
 * molecule. Energy evaluations are circuit tasks fanned out in parallel on a quantum backend
 * (the local state-vector simulator by default); the classical optimiser and the exact
 * reference energy are CPU tasks. The driver merges both and prints how close VQE got; it logs
 * the energy of every iteration with the exact value (`log()`), so the dashboard's Runs tab
 * draws the energy converging towards it. It ends by printing how many jobs the service got:
 * on a batching backend (ibm-quantum's batchWindowMs) the 18 circuits of an iteration are one job.
 * With VQE_PRIMITIVE=estimator each energy is one `estimator()` task of the whole Hamiltonian
 * (9 per iteration) instead of two circuits: on IBM they go out as one Estimator job per iteration.
 *
 *   npm start                                   # local simulator, no account needed
 *   ORRERY_QUANTUM_BACKEND=ibm npx tsx resources/examples/vqe-h2.ts --config my.json
 *   VQE_PRIMITIVE=estimator npm start           # energies as Estimator tasks
 *
 * The Hamiltonian is H2 at 0.735 Å in the STO-3G basis, parity-mapped with two-qubit reduction
 * (the 2-qubit form in Qiskit's tutorials); Pauli labels put qubit 0 on the right.
 */
import { init, remote, circuit, estimator, get, log, shutdown, state, type CircuitResult } from 'orrery-compute';

const HAMILTONIAN: readonly [string, number][] = [
  ['II', -1.052373245772859],
  ['IZ', 0.39793742484318045],
  ['ZI', -0.39793742484318045],
  ['ZZ', -0.01128010425623538],
  ['XX', 0.18093119978423156],
];

/** A two-qubit RealAmplitudes ansatz; `basis` rotates the measurement into Z or X. */
function ansatz(basis: 'Z' | 'X'): string {
  return `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t0;
input float[64] t1;
input float[64] t2;
input float[64] t3;
qubit[2] q;
bit[2] c;
ry(t0) q[0];
ry(t1) q[1];
cx q[0], q[1];
ry(t2) q[0];
ry(t3) q[1];
${basis === 'X' ? 'h q[0];\nh q[1];\n' : ''}c = measure q;
`;
}

const args = process.argv.slice(2);
const configIndex = args.indexOf('--config');
const backendName = process.env.ORRERY_QUANTUM_BACKEND ?? 'simulator';
const shots = Number(process.env.VQE_SHOTS ?? 8192);
const iterations = Number(process.env.VQE_ITERATIONS ?? 30);
const useEstimator = process.env.VQE_PRIMITIVE === 'estimator';

await init(
  configIndex >= 0
    ? { config: args[configIndex + 1] }
    : { backends: [{ name: 'simulator', kind: 'quantum-simulator', seed: 7 }] },
);

const energyCircuit = { Z: circuit({ backend: backendName, shots }), X: circuit({ backend: backendName, shots }) };

/** <P> of a diagonal Pauli string (I/Z) from counts; labels and bitstrings both put qubit 0 on the right. */
function expectation(label: string, counts: Record<string, number>): number {
  let sum = 0;
  let total = 0;
  for (const [bits, n] of Object.entries(counts)) {
    let sign = 1;
    for (let k = 0; k < label.length; k++) if (label[k] !== 'I' && bits[k] === '1') sign = -sign;
    sum += sign * n;
    total += n;
  }
  return sum / total;
}

function energyOf(z: CircuitResult, x: CircuitResult): number {
  let e = 0;
  for (const [label, coeff] of HAMILTONIAN)
    e += coeff * (label.includes('X') ? expectation(label.replace(/X/g, 'Z'), x.counts) : expectation(label, z.counts));
  return e;
}

/** The quantum tasks so far: circuit tasks, or Estimator tasks with VQE_PRIMITIVE=estimator. */
async function quantumTasks() {
  return state.listTasks({ filters: [['name', '=', useEstimator ? 'estimator' : 'circuit']], limit: 100_000 });
}

/** Jobs (IBM) or quantum tasks (Braket) the quantum tasks went out as: the distinct job ids on their task info. */
async function jobsSubmitted(): Promise<number> {
  const rows = await quantumTasks();
  return new Set(rows.map((r) => (r.info as Record<string, unknown> | undefined)?.jobId).filter(Boolean)).size;
}

/** The Hamiltonian as one Estimator observable (a Pauli sum). */
const OBSERVABLE = Object.fromEntries(HAMILTONIAN);
const energyEstimator = estimator({ backend: backendName, shots });

/** The energies of `thetas`, all submitted at once: two circuits each, or one Estimator task each. */
async function energies(thetas: readonly (readonly number[])[], scale = 1): Promise<number[]> {
  const bind = (t: readonly number[]) => ({ t0: t[0]!, t1: t[1]!, t2: t[2]!, t3: t[3]! });
  if (useEstimator) {
    const est = scale === 1 ? energyEstimator : energyEstimator.options({ shots: shots * scale });
    const rs = await get(thetas.map((t) => est.remote(ansatz('Z'), OBSERVABLE, bind(t))));
    return rs.map((r) => r.values[0]!);
  }
  const c =
    scale === 1
      ? energyCircuit
      : { Z: energyCircuit.Z.options({ shots: shots * scale }), X: energyCircuit.X.options({ shots: shots * scale }) };
  const refs = thetas.flatMap((t) => [c.Z.remote(ansatz('Z'), bind(t)), c.X.remote(ansatz('X'), bind(t))]);
  const results = await get(refs);
  return thetas.map((_, k) => energyOf(results[2 * k]!, results[2 * k + 1]!));
}

/** Exact ground energy: the smallest eigenvalue of the 4x4 Hamiltonian (a CPU task). */
const exactGroundEnergy = remote({ name: 'exact-diagonalisation' }, (terms: [string, number][]) => {
  const pauli: Record<string, number[][]> = {
    I: [
      [1, 0],
      [0, 1],
    ],
    Z: [
      [1, 0],
      [0, -1],
    ],
    X: [
      [0, 1],
      [1, 0],
    ],
  };
  const kron = (a: number[][], b: number[][]) =>
    a.flatMap((ra) => b.map((rb) => ra.flatMap((x) => rb.map((y) => x * y))));
  const h = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
  for (const [label, c] of terms) {
    const m = kron(pauli[label[0]!]!, pauli[label[1]!]!);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) h[i]![j]! += c * m[i]![j]!;
  }
  // Jacobi eigenvalue iteration on the real symmetric matrix.
  for (let sweep = 0; sweep < 100; sweep++) {
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(h[p]![q]!) < 1e-15) continue;
        const phi = 0.5 * Math.atan2(2 * h[p]![q]!, h[q]![q]! - h[p]![p]!);
        const c = Math.cos(phi);
        const s = Math.sin(phi);
        for (let k = 0; k < 4; k++) {
          const hkp = h[k]![p]!;
          const hkq = h[k]![q]!;
          h[k]![p] = c * hkp - s * hkq;
          h[k]![q] = s * hkp + c * hkq;
        }
        for (let k = 0; k < 4; k++) {
          const hpk = h[p]![k]!;
          const hqk = h[q]![k]!;
          h[p]![k] = c * hpk - s * hqk;
          h[q]![k] = s * hpk + c * hqk;
        }
      }
    }
  }
  return Math.min(...h.map((row, i) => row[i]!));
});

/** One optimiser step on the CPU: parameter-shift gradient, then gradient descent. */
const optimiserStep = remote(
  { name: 'optimiser-step' },
  (theta: number[], plus: number[], minus: number[], rate: number) =>
    theta.map((t, i) => t - rate * 0.5 * (plus[i]! - minus[i]!)),
);

const exactRef = exactGroundEnergy.remote(HAMILTONIAN as [string, number][]);
// The reference the curve converges towards: a few milliseconds of CPU, known before the first step.
const exact = await get(exactRef);
let theta = [0.1, -0.2, 0.3, 0.05];
let energy = NaN;
const started = performance.now();
for (let it = 0; it < iterations; it++) {
  // The energy + 8 shifted parameter vectors: 18 circuit tasks (or 9 Estimator tasks) at once.
  const shifted = theta.flatMap((_, i) =>
    [+1, -1].map((s) => theta.map((t, j) => (j === i ? t + (s * Math.PI) / 2 : t))),
  );
  const es = await energies([theta, ...shifted]);
  energy = es[0]!;
  const plus = theta.map((_, i) => es[1 + 2 * i]!);
  const minus = theta.map((_, i) => es[2 + 2 * i]!);
  log({ energy, 'energy/exact': exact }, { step: it });
  theta = await get(optimiserStep.remote(theta, plus, minus, 1.2));
  if (it % 5 === 0 || it === iterations - 1)
    console.log(`iteration ${String(it).padStart(2)}: energy ${energy.toFixed(6)} Ha`);
}
const loopJobs = await jobsSubmitted();
// The optimiser saw noisy energies; the final one is measured with 25x the shots.
[energy] = (await energies([theta], 25)) as [number];
log({ energy, 'energy/exact': exact }, { step: iterations });
const tasks = (await quantumTasks()).length;
const jobs = await jobsSubmitted();
console.log(
  `\nVQE energy   ${energy.toFixed(6)} Ha  (${tasks} ${useEstimator ? 'Estimator' : 'circuit'} tasks on backend ${backendName}, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
console.log(
  jobs === 0
    ? 'jobs submitted: none (the simulator runs circuits itself)'
    : `jobs submitted: ${jobs} (${(loopJobs / iterations).toFixed(1)} per optimiser iteration, ${jobs - loopJobs} for the final energy)`,
);
console.log(
  `exact energy ${exact.toFixed(6)} Ha  (error ${(Math.abs(energy - exact) * 1000).toFixed(2)} mHa; chemical accuracy is 1.6 mHa)`,
);
await shutdown();
