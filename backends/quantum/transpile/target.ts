/**
 * What the transpiler knows about a device: its qubit count, basis gates and coupling map, read
 * from IBM's backend configuration, plus the derived coupling graph and the gate basis it resolves to.
 */
import { UnsupportedTargetError } from './errors.ts';

/** A device as the transpiler sees it (IBM's `n_qubits`, `basis_gates`, `coupling_map`). */
export interface DeviceTarget {
  readonly numQubits: number;
  /** Native gate names, e.g. `['ecr', 'id', 'rz', 'sx', 'x']`. */
  readonly basisGates: readonly string[];
  /** Directed pairs `[control, target]` the native two-qubit gate supports. */
  readonly couplingMap: readonly (readonly [number, number])[];
}

/**
 * Reads a target from the JSON of IBM's `GET /api/v1/backends/{name}/configuration`.
 * Throws TypeError naming the field that is missing or malformed.
 */
export function targetFromIbmConfiguration(config: unknown): DeviceTarget {
  if (typeof config !== 'object' || config === null) {
    throw new TypeError('IBM backend configuration must be a JSON object with n_qubits, basis_gates and coupling_map');
  }
  const record = config as Record<string, unknown>;
  const numQubits = record.n_qubits;
  if (typeof numQubits !== 'number' || !Number.isInteger(numQubits) || numQubits < 1) {
    throw new TypeError(
      `IBM backend configuration field n_qubits must be a positive integer, got ${JSON.stringify(numQubits)}`,
    );
  }
  const basis = record.basis_gates;
  if (!Array.isArray(basis) || !basis.every((g): g is string => typeof g === 'string')) {
    throw new TypeError(
      `IBM backend configuration field basis_gates must be an array of gate names, got ${JSON.stringify(basis)}`,
    );
  }
  const coupling = record.coupling_map;
  if (!Array.isArray(coupling)) {
    throw new TypeError(
      `IBM backend configuration field coupling_map must be an array of [control, target] pairs, got ${JSON.stringify(coupling)}`,
    );
  }
  const pairs = coupling.map((pair, i): readonly [number, number] => {
    const ok =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every((q) => typeof q === 'number' && Number.isInteger(q) && q >= 0 && q < numQubits) &&
      pair[0] !== pair[1];
    if (!ok) {
      throw new TypeError(
        `IBM backend configuration field coupling_map[${i}] must be a pair of distinct qubits below n_qubits (${numQubits}), got ${JSON.stringify(pair)}`,
      );
    }
    return [pair[0] as number, pair[1] as number];
  });
  return { numQubits, basisGates: [...basis], couplingMap: pairs };
}

/** The native two-qubit gates the transpiler can target. */
export type NativeTwoQubitGate = 'cx' | 'ecr' | 'cz';

/** How the one-qubit runs are written: `z` is the diagonal rotation, `middle` the gate between. */
export interface OneQubitBasis {
  /** `u` alone, or a ZXZ-like form with rz (or p, equal up to phase) and sx / ry / rx. */
  readonly kind: 'u' | 'zsx' | 'zry' | 'zrx';
  readonly z: 'rz' | 'p';
  /** Whether `x` may stand in for two sx when the rotation is by π. */
  readonly hasX: boolean;
}

/** The gates a target's basis resolves to. */
export interface ResolvedBasis {
  readonly twoQubit: NativeTwoQubitGate;
  readonly oneQubit: OneQubitBasis;
}

/**
 * Picks the native two-qubit gate (cx before cz before ecr: fewest added one-qubit gates) and the
 * one-qubit form. Throws UnsupportedTargetError when either is missing.
 */
export function resolveBasis(basisGates: readonly string[]): ResolvedBasis {
  const has = new Set(basisGates);
  const twoQubit = (['cx', 'cz', 'ecr'] as const).find((g) => has.has(g));
  if (twoQubit === undefined) throw new UnsupportedTargetError(basisGates, 'no native two-qubit gate');
  const hasX = has.has('x');
  if (has.has('u')) return { twoQubit, oneQubit: { kind: 'u', z: 'rz', hasX } };
  const z = has.has('rz') ? 'rz' : has.has('p') ? 'p' : undefined;
  if (z === undefined) throw new UnsupportedTargetError(basisGates, 'no u, rz or p gate');
  const kind = has.has('sx') ? 'zsx' : has.has('ry') ? 'zry' : has.has('rx') ? 'zrx' : undefined;
  if (kind === undefined) throw new UnsupportedTargetError(basisGates, `no sx, ry or rx gate to pair with ${z}`);
  return { twoQubit, oneQubit: { kind, z, hasX } };
}

/** The coupling map as an undirected graph with all-pairs distances, plus the native directions. */
export class CouplingGraph {
  readonly numQubits: number;
  /** Neighbours of each physical qubit, ascending. */
  readonly neighbours: readonly (readonly number[])[];
  /** Hop distances; Infinity between disconnected qubits. */
  private readonly dist: Float64Array;
  private readonly directed: Set<number>;

  constructor(target: DeviceTarget) {
    const n = target.numQubits;
    this.numQubits = n;
    this.directed = new Set(target.couplingMap.map(([a, b]) => a * n + b));
    const adjacency: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
    for (const [a, b] of target.couplingMap) {
      adjacency[a]!.add(b);
      adjacency[b]!.add(a);
    }
    this.neighbours = adjacency.map((s) => [...s].sort((x, y) => x - y));
    this.dist = new Float64Array(n * n).fill(Infinity);
    const queue = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      const row = s * n;
      this.dist[row + s] = 0;
      let head = 0;
      let tail = 0;
      queue[tail++] = s;
      while (head < tail) {
        const u = queue[head++]!;
        const du = this.dist[row + u]!;
        for (const v of this.neighbours[u]!) {
          if (this.dist[row + v] === Infinity) {
            this.dist[row + v] = du + 1;
            queue[tail++] = v;
          }
        }
      }
    }
  }

  /** Hops between two physical qubits (1 when coupled). */
  distance(a: number, b: number): number {
    return this.dist[a * this.numQubits + b]!;
  }

  /** Whether the native gate runs with `control` on a and `target` on b. */
  supportsDirection(control: number, target: number): boolean {
    return this.directed.has(control * this.numQubits + target);
  }

  /** One shortest path from a to b, both ends included (lowest-numbered neighbour at each step). */
  shortestPath(a: number, b: number): number[] {
    const path = [a];
    let at = a;
    while (at !== b) {
      const d = this.distance(at, b);
      at = this.neighbours[at]!.find((v) => this.distance(v, b) === d - 1)!;
      path.push(at);
    }
    return path;
  }

  /** Connected groups of physical qubits, largest first. */
  components(): number[][] {
    const seen = new Uint8Array(this.numQubits);
    const groups: number[][] = [];
    for (let s = 0; s < this.numQubits; s++) {
      if (seen[s]) continue;
      const group: number[] = [];
      for (let v = 0; v < this.numQubits; v++) {
        if (this.distance(s, v) !== Infinity) {
          seen[v] = 1;
          group.push(v);
        }
      }
      groups.push(group);
    }
    return groups.sort((x, y) => y.length - x.length);
  }
}
