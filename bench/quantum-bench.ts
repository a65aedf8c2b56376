/**
 * The quantum simulator benchmark: a random 20-qubit, depth-20 circuit on Orrery's simulator and
 * on the npm package `quantum-circuit` (the independent peer), their speed ratio (target: Orrery
 * at least 20x faster), and the largest GHZ state that fits in 8 GiB, actually simulated in a
 * child process when this machine has the memory.
 *
 *   npx tsx bench/quantum-bench.ts [--quick]
 *
 * Prints one JSON object per line (`metric`, `value`, `unit`, `system`, plus details).
 * quantum-circuit needs about 1 minute at 16 qubits and roughly 20 minutes at 20, so it runs at
 * the largest size expected to finish within PEER_BUDGET_S, and the ratio is measured there, with
 * Orrery run on the very same circuit.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { freemem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Circuit, GateName, Operation } from '../backends/quantum/circuit.ts';
import { finalState, maxQubitsFor, simulate } from '../backends/quantum/simulator/index.ts';
import { createRandom } from '../backends/quantum/simulator/sampling.ts';
import { targetFromIbmConfiguration, transpile } from '../backends/quantum/transpile/index.ts';
import { configurationOf, defaultFakeDevices } from '../test/emulators/ibm/fake-devices.ts';

const QUBITS = 20;
const DEPTH = 20;
const EIGHT_GIB = 8 * 1024 ** 3;
/** Seconds quantum-circuit may take; beyond that it runs at a smaller qubit count. */
const PEER_BUDGET_S = 120;

/** The one-qubit gates of the layers, with how many angles each takes. */
const LAYER_GATES: readonly (readonly [GateName, number])[] = [
  ['h', 0],
  ['rx', 1],
  ['ry', 1],
  ['rz', 1],
  ['u', 3],
  ['t', 0],
  ['sx', 0],
];

/**
 * `depth` layers on `numQubits` qubits: a random one-qubit gate on every qubit, then cx or cz on
 * random disjoint pairs (every qubit paired, one left over when the count is odd).
 */
export function randomLayeredCircuit(numQubits: number, depth: number, seed: number): Circuit {
  const random = createRandom(seed);
  const pick = (n: number): number => Math.floor(random.next() * n);
  const ops: Operation[] = [];
  for (let layer = 0; layer < depth; layer++) {
    for (let q = 0; q < numQubits; q++) {
      const [name, params] = LAYER_GATES[pick(LAYER_GATES.length)]!;
      ops.push({
        kind: 'gate',
        name,
        qubits: [q],
        params: Array.from({ length: params }, () => (random.next() * 2 - 1) * Math.PI),
      });
    }
    const order = Array.from({ length: numQubits }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = pick(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let i = 0; i + 1 < order.length; i += 2) {
      ops.push({
        kind: 'gate',
        name: random.next() < 0.5 ? 'cx' : 'cz',
        qubits: [order[i]!, order[i + 1]!],
        params: [],
      });
    }
  }
  return { numQubits, numClbits: 0, qregs: [{ name: 'q', size: numQubits, offset: 0 }], cregs: [], ops };
}

/** The slice of quantum-circuit's API the benchmark uses. */
interface PeerCircuit {
  addGate(name: string, column: number, wires: number | number[], options?: { params?: Record<string, number> }): void;
  run(): void;
}
type PeerConstructor = new (numQubits: number) => PeerCircuit;

/** quantum-circuit's names and parameter names for the layer gates (its wire k is bit k, controls first, like the IR). */
const PEER_GATES: Partial<Record<GateName, { name: string; params: readonly string[] }>> = {
  h: { name: 'h', params: [] },
  t: { name: 't', params: [] },
  sx: { name: 'srn', params: [] },
  rx: { name: 'rx', params: ['theta'] },
  ry: { name: 'ry', params: ['theta'] },
  rz: { name: 'rz', params: ['phi'] },
  u: { name: 'u3', params: ['theta', 'phi', 'lambda'] },
  cx: { name: 'cx', params: [] },
  cz: { name: 'cz', params: [] },
};

function loadPeer(): PeerConstructor {
  return createRequire(import.meta.url)('quantum-circuit') as PeerConstructor;
}

function toPeer(Peer: PeerConstructor, circuit: Circuit): PeerCircuit {
  const peer = new Peer(circuit.numQubits);
  for (const op of circuit.ops) {
    if (op.kind !== 'gate') continue;
    const g = PEER_GATES[op.name];
    if (!g) throw new Error(`the benchmark has no quantum-circuit mapping for ${op.name}`);
    const params = Object.fromEntries(g.params.map((p, i) => [p, op.params[i]!]));
    peer.addGate(g.name, -1, op.qubits.length === 1 ? op.qubits[0]! : [...op.qubits], { params });
  }
  return peer;
}

function gateCount(circuit: Circuit): number {
  return circuit.ops.filter((op) => op.kind === 'gate').length;
}

function seconds(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Orrery's median time over `runs` (after one warm-up run). */
function timeOrrery(circuit: Circuit, runs: number): number {
  finalState(circuit);
  const times = Array.from({ length: runs }, () => seconds(() => finalState(circuit))).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

/** The GHZ circuit on n qubits, every qubit measured. */
function ghz(n: number): Circuit {
  const ops: Operation[] = [{ kind: 'gate', name: 'h', qubits: [0], params: [] }];
  for (let q = 1; q < n; q++) ops.push({ kind: 'gate', name: 'cx', qubits: [q - 1, q], params: [] });
  for (let q = 0; q < n; q++) ops.push({ kind: 'measure', qubit: q, clbit: q });
  return {
    numQubits: n,
    numClbits: n,
    qregs: [{ name: 'q', size: n, offset: 0 }],
    cregs: [{ name: 'c', size: n, offset: 0 }],
    ops,
  };
}

/** Child-process side of the capacity run: simulate GHZ(n), check it, print time and peak RSS. */
function ghzChild(n: number): void {
  const circuit = ghz(n);
  let counts: Record<string, number> = {};
  const s = seconds(() => ({ counts } = simulate(circuit, { shots: 1000, seed: 1, maxQubits: n })));
  const keys = Object.keys(counts).sort();
  const ok = keys.every((k) => k === '0'.repeat(n) || k === '1'.repeat(n));
  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ seconds: s, peakRssMiB, ok, counts }));
}

/** Runs the benchmark and returns its result lines (also what `main` prints). */
export async function runQuantumBench(options: { quick?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const circuit = randomLayeredCircuit(QUBITS, DEPTH, 2024);
  const gates = gateCount(circuit);
  const orrerySeconds = timeOrrery(circuit, options.quick ? 3 : 5);
  lines.push({
    metric: 'quantum_sim_20q_depth20_s',
    value: orrerySeconds,
    unit: 's',
    system: 'orrery',
    qubits: QUBITS,
    depth: DEPTH,
    gates,
    gatesPerSecond: Math.round(gates / orrerySeconds),
    note: 'final state vector of a random layered circuit (h, rx, ry, rz, u, t, sx; then cx/cz on random disjoint pairs); median of runs',
  });

  // quantum-circuit costs about 2 us per gate per amplitude; pick the largest size within budget.
  const Peer = loadPeer();
  const estimate = (n: number): number => 2e-6 * 2 ** n * n * 1.5 * DEPTH;
  const budget = options.quick ? PEER_BUDGET_S / 8 : PEER_BUDGET_S;
  let peerQubits = QUBITS;
  while (peerQubits > 10 && estimate(peerQubits) > budget) peerQubits -= 2;
  const peerCircuit = peerQubits === QUBITS ? circuit : randomLayeredCircuit(peerQubits, DEPTH, 2024);
  const peerGates = gateCount(peerCircuit);
  const peer = toPeer(Peer, peerCircuit);
  const peerSeconds = seconds(() => peer.run());
  const orreryAtPeerSize = peerQubits === QUBITS ? orrerySeconds : timeOrrery(peerCircuit, 5);
  lines.push({
    metric: `quantum_sim_${peerQubits}q_depth20_s`,
    value: peerSeconds,
    unit: 's',
    system: 'quantum-circuit',
    qubits: peerQubits,
    depth: DEPTH,
    gates: peerGates,
    gatesPerSecond: Math.round(peerGates / peerSeconds),
    note:
      peerQubits === QUBITS
        ? 'same circuit as Orrery'
        : `quantum-circuit is estimated to need ${Math.round(estimate(QUBITS))} s at ${QUBITS} qubits (over the ${budget} s budget), so it ran this ${peerQubits}-qubit circuit of the same construction`,
  });
  if (peerQubits !== QUBITS) {
    lines.push({
      metric: `quantum_sim_${peerQubits}q_depth20_s`,
      value: orreryAtPeerSize,
      unit: 's',
      system: 'orrery',
      qubits: peerQubits,
      depth: DEPTH,
      gates: peerGates,
      gatesPerSecond: Math.round(peerGates / orreryAtPeerSize),
      note: 'the circuit quantum-circuit ran',
    });
  }
  const ratio = peerSeconds / orreryAtPeerSize;
  lines.push({
    metric: 'quantum_sim_speedup_vs_quantum_circuit',
    value: Math.round(ratio * 10) / 10,
    unit: 'x',
    system: 'orrery',
    qubits: peerQubits,
    target: '>= 20',
    met: ratio >= 20,
    ...(peerQubits !== QUBITS
      ? {
          estimatedAt20Qubits:
            Math.round(((peerSeconds * (2 ** QUBITS * QUBITS)) / (2 ** peerQubits * peerQubits) / orrerySeconds) * 10) /
            10,
        }
      : {}),
  });

  const largest = maxQubitsFor(EIGHT_GIB);
  const fitsHere = maxQubitsFor(Math.min(EIGHT_GIB, freemem() / 2));
  const capacity: Record<string, unknown> = {
    metric: 'quantum_sim_max_qubits_8gib',
    value: largest,
    unit: 'qubits',
    system: 'orrery',
    note: '16 bytes per amplitude: 16·2^n <= 8 GiB',
  };
  if (options.quick) {
    capacity.ghz = 'skipped with --quick';
  } else {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--ghz-child', String(fitsHere)],
      {
        encoding: 'utf8',
        timeout: 600_000,
        maxBuffer: 1 << 20,
      },
    );
    const out = child.stdout.trim().split('\n').pop() ?? '';
    try {
      const r = JSON.parse(out) as { seconds: number; peakRssMiB: number; ok: boolean };
      Object.assign(capacity, {
        ghzQubits: fitsHere,
        ghzSeconds: r.seconds,
        ghzPeakRssMiB: r.peakRssMiB,
        ghzCountsOk: r.ok,
        ghzShots: 1000,
      });
    } catch {
      Object.assign(capacity, {
        ghzQubits: fitsHere,
        ghzError: `child exited ${child.status ?? child.signal}: ${child.stderr.slice(-500)}`,
      });
    }
  }
  lines.push(capacity);
  lines.push(transpileLine(options.quick ? 3 : 5));
  return lines;
}

/** Median seconds to transpile a 27-qubit random layered circuit onto the heavy-hex ibm_fake_kolkata. */
function transpileLine(runs: number): Record<string, unknown> {
  const device = defaultFakeDevices().find((d) => d.name === 'ibm_fake_kolkata')!;
  const target = targetFromIbmConfiguration(configurationOf(device) as never);
  const circuit = randomLayeredCircuit(device.nQubits, DEPTH, 7);
  transpile(circuit, target);
  const times = Array.from({ length: runs }, () => seconds(() => transpile(circuit, target))).sort((a, b) => a - b);
  return {
    metric: 'quantum_transpile_27q_heavy_hex_s',
    value: times[Math.floor(runs / 2)]!,
    unit: 's',
    system: 'orrery',
    qubits: device.nQubits,
    depth: DEPTH,
    gates: gateCount(circuit),
    note: 'layout, SWAP routing and basis translation of a random layered circuit onto a heavy-hex coupling map; median of runs',
  };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const at = process.argv.indexOf('--ghz-child');
  if (at >= 0) {
    ghzChild(Number(process.argv[at + 1]));
  } else {
    for (const line of await runQuantumBench({ quick: process.argv.includes('--quick') }))
      console.log(JSON.stringify(line));
  }
}
