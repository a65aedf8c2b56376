/**
 * Initial layout: which physical qubit each virtual qubit starts on.
 *
 * Heuristic (interaction-weighted greedy placement, several seeds):
 * 1. Weigh each pair of virtual qubits by how many two-qubit gates act on it.
 * 2. For each of a few start nodes (the highest-degree physical qubits of the largest connected
 *    group), place the most-interacting virtual qubit on the start node, then repeatedly the
 *    unplaced virtual qubit most tied to those already placed, on the free physical qubit that
 *    minimises Σ weight × distance to its placed partners. Ties go to the qubit with more free
 *    neighbours (so chains do not run into dead ends), then to the one nearest the start node (so
 *    the layout stays a compact region, as a BFS from the start node would grow it).
 * 3. Keep the placement with the lowest Σ weight × (distance − 1): zero means every gate already
 *    acts on coupled qubits, so routing inserts no SWAP.
 */
import type { Operation } from '../circuit.ts';
import { TranspileError } from './errors.ts';
import type { CouplingGraph } from './target.ts';

/** How many start nodes to try; each costs one greedy placement. */
const START_CANDIDATES = 12;

/** Σ weight of two-qubit gates per virtual pair, as adjacency lists. */
function interactionGraph(ops: readonly Operation[], numVirtual: number): Map<number, number>[] {
  const adjacency = Array.from({ length: numVirtual }, () => new Map<number, number>());
  for (const op of ops) {
    if (op.kind !== 'gate' || op.qubits.length !== 2) continue;
    const [a, b] = op.qubits as [number, number];
    adjacency[a]!.set(b, (adjacency[a]!.get(b) ?? 0) + 1);
    adjacency[b]!.set(a, (adjacency[b]!.get(a) ?? 0) + 1);
  }
  return adjacency;
}

function placeGreedily(
  weights: readonly Map<number, number>[],
  start: number,
  component: readonly number[],
  graph: CouplingGraph,
): number[] {
  const numVirtual = weights.length;
  const total = weights.map((m) => [...m.values()].reduce((s, w) => s + w, 0));
  const layout = new Array<number>(numVirtual).fill(-1);
  const free = new Set(component);
  const freeNeighbours = (p: number): number => graph.neighbours[p]!.filter((v) => free.has(v)).length;
  const tie = new Array<number>(numVirtual).fill(0);
  for (let placed = 0; placed < numVirtual; placed++) {
    let pick = -1;
    for (let v = 0; v < numVirtual; v++) {
      if (layout[v] !== -1) continue;
      if (pick === -1 || tie[v]! > tie[pick]! || (tie[v] === tie[pick] && total[v]! > total[pick]!)) pick = v;
    }
    let best = start;
    if (placed > 0) {
      let bestCost = Infinity;
      let bestFree = -1;
      let bestReach = Infinity;
      for (const p of free) {
        let cost = 0;
        for (const [u, w] of weights[pick]!) if (layout[u] !== -1) cost += w * graph.distance(p, layout[u]!);
        const nf = freeNeighbours(p);
        const reach = graph.distance(p, start);
        if (cost < bestCost || (cost === bestCost && (nf > bestFree || (nf === bestFree && reach < bestReach)))) {
          best = p;
          bestCost = cost;
          bestFree = nf;
          bestReach = reach;
        }
      }
    }
    layout[pick] = best;
    free.delete(best);
    for (const [u, w] of weights[pick]!) if (layout[u] === -1) tie[u] = tie[u]! + w;
  }
  return layout;
}

function layoutCost(weights: readonly Map<number, number>[], layout: readonly number[], graph: CouplingGraph): number {
  let cost = 0;
  weights.forEach((m, a) => {
    for (const [b, w] of m) if (a < b) cost += w * (graph.distance(layout[a]!, layout[b]!) - 1);
  });
  return cost;
}

/**
 * Chooses the initial layout (virtual qubit i → physical qubit) for a circuit whose gates act on
 * at most two qubits. Throws TranspileError when the circuit has more qubits than the largest
 * connected group of device qubits.
 */
export function chooseInitialLayout(ops: readonly Operation[], numVirtual: number, graph: CouplingGraph): number[] {
  if (numVirtual > graph.numQubits) throw new TranspileError(numVirtual, graph.numQubits);
  const component = graph.components()[0] ?? [];
  if (numVirtual > component.length) {
    throw new TranspileError(numVirtual, graph.numQubits, ` (at most ${component.length} of them connected)`);
  }
  if (numVirtual === 0) return [];
  const weights = interactionGraph(ops, numVirtual);
  const starts = [...component]
    .sort((x, y) => graph.neighbours[y]!.length - graph.neighbours[x]!.length || x - y)
    .slice(0, START_CANDIDATES);
  let best: number[] = [];
  let bestCost = Infinity;
  for (const start of starts) {
    const layout = placeGreedily(weights, start, component, graph);
    const cost = layoutCost(weights, layout, graph);
    if (cost < bestCost) {
      best = layout;
      bestCost = cost;
      if (cost === 0) break;
    }
  }
  return best;
}
