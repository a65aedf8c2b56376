/**
 * Orrery's simulator against an independent one: the npm package `quantum-circuit`. Random
 * circuits over every gate both know are compared amplitude by amplitude.
 *
 * Conventions checked in quantum-circuit 0.9's source (lib/quantum-circuit.js) and by the probe
 * test below: wire k is bit k of the state index (little-endian, as Qiskit), multi-qubit gates
 * list controls first, `u3` is OpenQASM's U, `rz`/`crz` take their angle as `phi`,
 * `u1`/`cu1` as `lambda`, `srn`/`srndg` are sx/sxdg, and `xx(t)`/`yy(t)` are exp(-i·t·XX),
 * exp(-i·t·YY), i.e. rxx(2t)/ryy(2t), while `zz(t)` is rzz(t). It has no ecr; ecr is checked
 * against its textbook matrix in simulator.test.ts.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { GATE_ARITY, type Circuit, type GateName, type Operation } from '../../backends/quantum/circuit.ts';
import { finalState } from '../../backends/quantum/simulator/index.ts';

interface PeerComplex {
  re: number;
  im: number;
}
interface PeerCircuit {
  addGate(name: string, column: number, wires: number | number[], options?: { params?: Record<string, number> }): void;
  run(): void;
  state: Record<string, PeerComplex | undefined>;
}
type PeerConstructor = new (numQubits: number) => PeerCircuit;
const QuantumCircuit = createRequire(import.meta.url)('quantum-circuit') as PeerConstructor;

/** One IR gate as quantum-circuit gates: name, wires and named parameters. */
type PeerGate = { name: string; wires: number[]; params: Record<string, number> };

function toPeerGates(name: GateName, q: readonly number[], p: readonly number[]): PeerGate[] {
  const g = (n: string, params: Record<string, number> = {}, wires: number[] = [...q]): PeerGate => ({
    name: n,
    wires,
    params,
  });
  switch (name) {
    case 'sx':
      return [g('srn')];
    case 'sxdg':
      return [g('srndg')];
    case 'rx':
    case 'ry':
    case 'crx':
    case 'cry':
      return [g(name, { theta: p[0]! })];
    case 'rz':
    case 'crz':
      return [g(name, { phi: p[0]! })];
    case 'p':
      return [g('u1', { lambda: p[0]! })];
    case 'cp':
      return [g('cu1', { lambda: p[0]! })];
    case 'u':
      return [g('u3', { theta: p[0]!, phi: p[1]!, lambda: p[2]! })];
    // cu's γ is a phase on the control's |1>: u1(γ) on the control, then cu3.
    case 'cu':
      return [g('u1', { lambda: p[3]! }, [q[0]!]), g('cu3', { theta: p[0]!, phi: p[1]!, lambda: p[2]! })];
    case 'rxx':
      return [g('xx', { theta: p[0]! / 2 })];
    case 'ryy':
      return [g('yy', { theta: p[0]! / 2 })];
    case 'rzz':
      return [g('zz', { theta: p[0]! })];
    case 'ecr':
      throw new Error('quantum-circuit has no ecr');
    default:
      return [g(name)];
  }
}

/** Every IR gate quantum-circuit can run. */
const GATES = (Object.keys(GATE_ARITY) as GateName[]).filter((n) => n !== 'ecr');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomCircuit(seed: number): Circuit {
  const rnd = lcg(seed);
  const n = 2 + Math.floor(rnd() * 7);
  const ops: Operation[] = [];
  const length = 20 + Math.floor(rnd() * 40);
  while (ops.length < length) {
    const name = GATES[Math.floor(rnd() * GATES.length)]!;
    const arity = GATE_ARITY[name];
    if (arity.qubits > n) continue;
    const pool = Array.from({ length: n }, (_, i) => i);
    const qubits: number[] = [];
    for (let k = 0; k < arity.qubits; k++) qubits.push(pool.splice(Math.floor(rnd() * pool.length), 1)[0]!);
    const params = Array.from({ length: arity.params }, () => (rnd() * 4 - 2) * Math.PI);
    ops.push({ kind: 'gate', name, qubits, params });
  }
  return { numQubits: n, numClbits: 0, qregs: [{ name: 'q', size: n, offset: 0 }], cregs: [], ops };
}

function peerState(circuit: Circuit): { re: Float64Array; im: Float64Array } {
  const peer = new QuantumCircuit(circuit.numQubits);
  for (const op of circuit.ops) {
    if (op.kind !== 'gate') continue;
    for (const pg of toPeerGates(op.name, op.qubits, op.params)) {
      peer.addGate(pg.name, -1, pg.wires.length === 1 ? pg.wires[0]! : pg.wires, { params: pg.params });
    }
  }
  peer.run();
  const dim = 2 ** circuit.numQubits;
  const re = new Float64Array(dim);
  const im = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    const a = peer.state[String(i)];
    if (a) {
      re[i] = a.re;
      im[i] = a.im;
    }
  }
  return { re, im };
}

function assertSameState(
  ours: { re: Float64Array; im: Float64Array },
  theirs: { re: Float64Array; im: Float64Array },
  what: string,
): void {
  assert.equal(ours.re.length, theirs.re.length);
  for (let i = 0; i < ours.re.length; i++) {
    const d = Math.hypot(ours.re[i]! - theirs.re[i]!, ours.im[i]! - theirs.im[i]!);
    assert.ok(
      d < 1e-9,
      `${what}: amplitude ${i} differs: ours ${ours.re[i]} + ${ours.im[i]}i, quantum-circuit ${theirs.re[i]} + ${theirs.im[i]}i`,
    );
  }
}

describe('simulator vs quantum-circuit', () => {
  it('agrees on each gate alone, on a non-trivial input state and on reversed qubits', () => {
    const rnd = lcg(7);
    for (const name of GATES) {
      const arity = GATE_ARITY[name];
      for (const order of [
        [0, 1, 2],
        [2, 0, 1],
        [1, 2, 0],
      ]) {
        const prep: Operation[] = [0, 1, 2].map((q) => ({
          kind: 'gate',
          name: 'u',
          qubits: [q],
          params: [rnd() * 3, rnd() * 3, rnd() * 3],
        }));
        prep.push({ kind: 'gate', name: 'cx', qubits: [0, 2], params: [] });
        const gate: Operation = {
          kind: 'gate',
          name,
          qubits: order.slice(0, arity.qubits),
          params: Array.from({ length: arity.params }, () => rnd() * 6 - 3),
        };
        const circuit: Circuit = { numQubits: 3, numClbits: 0, qregs: [], cregs: [], ops: [...prep, gate] };
        assertSameState(finalState(circuit), peerState(circuit), `${name} on ${gate.qubits.join(',')}`);
      }
    }
  });

  for (let seed = 1; seed <= 40; seed++) {
    it(`agrees on random circuit #${seed}`, () => {
      const circuit = randomCircuit(seed * 7919);
      assertSameState(finalState(circuit), peerState(circuit), `circuit #${seed} (${circuit.numQubits} qubits)`);
    });
  }

  it('detects a difference (the comparison can fail)', () => {
    const circuit = randomCircuit(99);
    const theirs = peerState(circuit);
    const changed: Circuit = {
      ...circuit,
      ops: [...circuit.ops, { kind: 'gate', name: 'rz', qubits: [0], params: [0.01] }],
    };
    assert.throws(() => assertSameState(finalState(changed), theirs, 'changed'), /differs/);
  });
});
