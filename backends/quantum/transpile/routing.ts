/**
 * Routing: rewrites a virtual circuit onto physical qubits, inserting SWAPs so every two-qubit
 * gate acts on coupled qubits.
 *
 * For a gate on qubits k hops apart the router takes a shortest path and needs k−1 SWAPs; it
 * chooses where the two qubits meet on that path (move one end i steps, the other k−1−i) by
 * the distance the next upcoming two-qubit gates would have afterwards (SABRE's look-ahead idea,
 * with guaranteed progress). Measurements, resets and barriers follow the current permutation,
 * so each classical bit still receives the virtual qubit it was meant to.
 */
import type { Operation } from '../circuit.ts';
import type { CouplingGraph } from './target.ts';

/** How many upcoming two-qubit gates the look-ahead scores, and how fast their weight decays. */
const LOOKAHEAD_GATES = 20;
const LOOKAHEAD_DECAY = 0.8;

/** The routed circuit on physical qubits. */
export interface RoutedCircuit {
  readonly ops: Operation[];
  /** Virtual qubit i → physical qubit at the end. */
  readonly finalLayout: number[];
  readonly swaps: number;
}

/** mulberry32: a small seeded generator, so tie-breaks are reproducible for a given seed. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Routes `ops` (gates on at most two qubits) from `initialLayout` (virtual → physical).
 * `seed` breaks ties between equally good meeting points.
 */
export function route(
  ops: readonly Operation[],
  initialLayout: readonly number[],
  graph: CouplingGraph,
  seed = 0,
): RoutedCircuit {
  const random = seededRandom(seed);
  const v2p = [...initialLayout];
  const p2v = new Array<number>(graph.numQubits).fill(-1);
  v2p.forEach((p, v) => {
    p2v[p] = v;
  });
  const out: Operation[] = [];
  let swaps = 0;

  const twoQubitAt: number[] = [];
  ops.forEach((op, i) => {
    if (op.kind === 'gate' && op.qubits.length === 2) twoQubitAt.push(i);
  });
  let nextTwo = 0;

  const swapPhysical = (x: number, y: number): void => {
    out.push({ kind: 'gate', name: 'swap', qubits: [x, y], params: [] });
    swaps++;
    const vx = p2v[x]!;
    const vy = p2v[y]!;
    p2v[x] = vy;
    p2v[y] = vx;
    if (vx !== -1) v2p[vx] = y;
    if (vy !== -1) v2p[vy] = x;
  };

  /** Look-ahead cost of the gates after position `from` if the virtual qubits on `path` shifted as given. */
  const lookahead = (from: number, moved: Map<number, number>): number => {
    let cost = 0;
    let weight = 1;
    for (let k = from; k < twoQubitAt.length && k < from + LOOKAHEAD_GATES; k++) {
      const op = ops[twoQubitAt[k]!] as Extract<Operation, { kind: 'gate' }>;
      const a = op.qubits[0]!;
      const b = op.qubits[1]!;
      cost += weight * graph.distance(moved.get(a) ?? v2p[a]!, moved.get(b) ?? v2p[b]!);
      weight *= LOOKAHEAD_DECAY;
    }
    return cost;
  };

  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.kind) {
      case 'measure':
        out.push({ kind: 'measure', qubit: v2p[op.qubit]!, clbit: op.clbit });
        continue;
      case 'reset':
        out.push({ kind: 'reset', qubit: v2p[op.qubit]! });
        continue;
      case 'barrier':
        out.push({ kind: 'barrier', qubits: op.qubits.map((q) => v2p[q]!) });
        continue;
      case 'gate':
        break;
    }
    if (op.qubits.length === 1) {
      out.push({ ...op, qubits: [v2p[op.qubits[0]!]!] });
      continue;
    }
    nextTwo++;
    const [a, b] = op.qubits as [number, number];
    const path = graph.shortestPath(v2p[a]!, v2p[b]!);
    const k = path.length - 1;
    if (k > 1) {
      // meeting point m: a ends on path[m], b on path[m+1]; the virtual qubits between shift by one
      let bestM = 0;
      let bestCost = Infinity;
      for (let m = 0; m < k; m++) {
        const moved = new Map<number, number>();
        for (let j = 1; j <= m; j++) {
          const v = p2v[path[j]!]!;
          if (v !== -1) moved.set(v, path[j - 1]!);
        }
        for (let j = m + 1; j < k; j++) {
          const v = p2v[path[j]!]!;
          if (v !== -1) moved.set(v, path[j + 1]!);
        }
        moved.set(a, path[m]!);
        moved.set(b, path[m + 1]!);
        const cost = lookahead(nextTwo, moved) + random() * 1e-9;
        if (cost < bestCost) {
          bestCost = cost;
          bestM = m;
        }
      }
      for (let j = 0; j < bestM; j++) swapPhysical(path[j]!, path[j + 1]!);
      for (let j = k; j > bestM + 1; j--) swapPhysical(path[j]!, path[j - 1]!);
    }
    out.push({ ...op, qubits: [v2p[a]!, v2p[b]!] });
  }
  return { ops: out, finalLayout: v2p, swaps };
}
