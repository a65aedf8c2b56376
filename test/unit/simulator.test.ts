/**
 * The state-vector simulator against results derived by hand: Bell and GHZ states, the QFT's
 * closed form, rotation probabilities, every gate against its textbook matrix (written out here,
 * independently of gates.ts, in the textbook's big-endian form: the gate's first qubit is the
 * most significant bit of the matrix index), measurement semantics, sampling statistics,
 * capacity errors and Qiskit's bitstring order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  GATE_ARITY,
  type Circuit,
  type GateName,
  type Operation,
  type Register,
} from '../../backends/quantum/circuit.ts';
import {
  finalState,
  maxQubitsFor,
  NonUnitaryCircuitError,
  probabilities,
  simulate,
} from '../../backends/quantum/simulator/index.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';

type C = readonly [number, number];
const gate = (name: GateName, qubits: number[], params: number[] = []): Operation => ({
  kind: 'gate',
  name,
  qubits,
  params,
});
const measure = (qubit: number, clbit: number): Operation => ({ kind: 'measure', qubit, clbit });
const reset = (qubit: number): Operation => ({ kind: 'reset', qubit });

function circuit(numQubits: number, ops: Operation[], numClbits = 0, cregs?: Register[]): Circuit {
  return {
    numQubits,
    numClbits,
    ops,
    qregs: [{ name: 'q', size: numQubits, offset: 0 }],
    cregs: cregs ?? (numClbits ? [{ name: 'c', size: numClbits, offset: 0 }] : []),
  };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const close = (a: number, b: number, what: string, tol = 1e-12): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// ---- textbook matrices: rows of [re, im], first qubit most significant ----
const r2 = Math.SQRT1_2;
const e = (t: number): C => [Math.cos(t), Math.sin(t)];
const mulC = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const O: C = [0, 0];
const I1: C = [1, 0];

function controlled(u: readonly (readonly C[])[], controls: number): C[][] {
  const size = 2 ** (controls + 1);
  const m: C[][] = Array.from({ length: size }, (_, r) => Array.from({ length: size }, (_, c) => (r === c ? I1 : O)));
  const off = size - 2;
  for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) m[off + r]![off + c] = u[r]![c]!;
  return m;
}

function textbook(name: GateName, p: readonly number[]): C[][] {
  const [a = 0, b = 0, c = 0, d = 0] = p;
  const cs = Math.cos(a / 2);
  const sn = Math.sin(a / 2);
  const U = (t: number, ph: number, l: number): C[][] => [
    [[Math.cos(t / 2), 0], mulC(e(l), [-Math.sin(t / 2), 0])],
    [mulC(e(ph), [Math.sin(t / 2), 0]), mulC(e(ph + l), [Math.cos(t / 2), 0])],
  ];
  switch (name) {
    case 'id':
      return [
        [I1, O],
        [O, I1],
      ];
    case 'x':
      return [
        [O, I1],
        [I1, O],
      ];
    case 'y':
      return [
        [O, [0, -1]],
        [[0, 1], O],
      ];
    case 'z':
      return [
        [I1, O],
        [O, [-1, 0]],
      ];
    case 'h':
      return [
        [
          [r2, 0],
          [r2, 0],
        ],
        [
          [r2, 0],
          [-r2, 0],
        ],
      ];
    case 's':
      return [
        [I1, O],
        [O, [0, 1]],
      ];
    case 'sdg':
      return [
        [I1, O],
        [O, [0, -1]],
      ];
    case 't':
      return [
        [I1, O],
        [O, e(Math.PI / 4)],
      ];
    case 'tdg':
      return [
        [I1, O],
        [O, e(-Math.PI / 4)],
      ];
    case 'sx':
      return [
        [
          [0.5, 0.5],
          [0.5, -0.5],
        ],
        [
          [0.5, -0.5],
          [0.5, 0.5],
        ],
      ];
    case 'sxdg':
      return [
        [
          [0.5, -0.5],
          [0.5, 0.5],
        ],
        [
          [0.5, 0.5],
          [0.5, -0.5],
        ],
      ];
    case 'rx':
      return [
        [
          [cs, 0],
          [0, -sn],
        ],
        [
          [0, -sn],
          [cs, 0],
        ],
      ];
    case 'ry':
      return [
        [
          [cs, 0],
          [-sn, 0],
        ],
        [
          [sn, 0],
          [cs, 0],
        ],
      ];
    case 'rz':
      return [
        [e(-a / 2), O],
        [O, e(a / 2)],
      ];
    case 'p':
      return [
        [I1, O],
        [O, e(a)],
      ];
    case 'u':
      return U(a, b, c);
    case 'cx':
    case 'cy':
    case 'cz':
    case 'ch':
    case 'cp':
    case 'crx':
    case 'cry':
    case 'crz':
      return controlled(textbook(name.slice(1) as GateName, p), 1);
    case 'cu':
      return controlled(
        U(a, b, c).map((row) => row.map((v) => mulC(e(d), v))),
        1,
      );
    case 'ccx':
      return controlled(textbook('x', []), 2);
    case 'swap':
      return [
        [I1, O, O, O],
        [O, O, I1, O],
        [O, I1, O, O],
        [O, O, O, I1],
      ];
    case 'cswap': {
      const m = controlled(
        [
          [I1, O],
          [O, I1],
        ],
        2,
      );
      m[5] = [O, O, O, O, O, O, I1, O];
      m[6] = [O, O, O, O, O, I1, O, O];
      return m;
    }
    case 'ecr':
      return [
        [O, O, [r2, 0], [0, r2]],
        [O, O, [0, r2], [r2, 0]],
        [[r2, 0], [0, -r2], O, O],
        [[0, -r2], [r2, 0], O, O],
      ];
    case 'rxx':
      return [
        [[cs, 0], O, O, [0, -sn]],
        [O, [cs, 0], [0, -sn], O],
        [O, [0, -sn], [cs, 0], O],
        [[0, -sn], O, O, [cs, 0]],
      ];
    case 'ryy':
      return [
        [[cs, 0], O, O, [0, sn]],
        [O, [cs, 0], [0, -sn], O],
        [O, [0, -sn], [cs, 0], O],
        [[0, sn], O, O, [cs, 0]],
      ];
    case 'rzz':
      return [
        [e(-a / 2), O, O, O],
        [O, e(a / 2), O, O],
        [O, O, e(a / 2), O],
        [O, O, O, e(-a / 2)],
      ];
  }
}

/** Applies a textbook matrix (first listed qubit most significant) to a little-endian state. */
function applyTextbook(
  state: { re: Float64Array; im: Float64Array },
  m: C[][],
  qubits: readonly number[],
): { re: Float64Array; im: Float64Array } {
  const k = qubits.length;
  const re = new Float64Array(state.re.length);
  const im = new Float64Array(state.re.length);
  for (let i = 0; i < re.length; i++) {
    let row = 0;
    for (let j = 0; j < k; j++) row |= ((i >> qubits[j]!) & 1) << (k - 1 - j);
    for (let col = 0; col < 2 ** k; col++) {
      let src = i;
      for (let j = 0; j < k; j++) {
        const bit = (col >> (k - 1 - j)) & 1;
        src = (src & ~(1 << qubits[j]!)) | (bit << qubits[j]!);
      }
      const [mr, mi] = m[row]![col]!;
      re[i] += mr * state.re[src]! - mi * state.im[src]!;
      im[i] += mr * state.im[src]! + mi * state.re[src]!;
    }
  }
  return { re, im };
}

function assertStatesEqual(
  a: { re: Float64Array; im: Float64Array },
  b: { re: Float64Array; im: Float64Array },
  what: string,
): void {
  for (let i = 0; i < a.re.length; i++) {
    close(a.re[i]!, b.re[i]!, `${what} re[${i}]`, 1e-10);
    close(a.im[i]!, b.im[i]!, `${what} im[${i}]`, 1e-10);
  }
}

/** A random entangled state on n qubits, as ops. */
function randomPrep(n: number, rnd: () => number): Operation[] {
  const ops: Operation[] = [];
  for (let layer = 0; layer < 2; layer++) {
    for (let q = 0; q < n; q++) ops.push(gate('u', [q], [rnd() * 6, rnd() * 6, rnd() * 6]));
    for (let q = 0; q + 1 < n; q++) ops.push(gate('cx', [q, q + 1]));
  }
  return ops;
}

/** Asserts every count is within 5 standard deviations of shots·p (and no outcome outside `expected`). */
function assertDistribution(counts: Record<string, number>, expected: Record<string, number>, shots: number): void {
  for (const key of Object.keys(counts)) assert.ok(key in expected && expected[key]! > 0, `unexpected outcome ${key}`);
  for (const [key, p] of Object.entries(expected)) {
    const sigma = Math.sqrt(shots * p * (1 - p));
    const got = counts[key] ?? 0;
    assert.ok(
      Math.abs(got - shots * p) <= 5 * sigma + 1e-9,
      `${key}: ${got} counts, expected ${shots * p} ± ${5 * sigma}`,
    );
  }
}

describe('simulator: analytic states', () => {
  it('Bell state: |00> and |11> each 0.5', () => {
    const p = probabilities(circuit(2, [gate('h', [0]), gate('cx', [0, 1])]));
    close(p[0]!, 0.5, 'p00', 2 ** -52);
    close(p[3]!, 0.5, 'p11', 2 ** -52);
    assert.equal(p[1], 0);
    assert.equal(p[2], 0);
  });

  it('GHZ on 5 qubits: only 00000 and 11111, in probabilities and in counts', () => {
    const ops = [gate('h', [0]), ...[1, 2, 3, 4].map((q) => gate('cx', [q - 1, q]))];
    const p = probabilities(circuit(5, ops));
    p.forEach((v, i) => {
      close(v, i === 0 || i === 31 ? 0.5 : 0, `p[${i}]`);
    });
    const { counts } = simulate(circuit(5, [...ops, ...[0, 1, 2, 3, 4].map((q) => measure(q, q))], 5), {
      shots: 10_000,
      seed: 3,
    });
    assertDistribution(counts, { '00000': 0.5, '11111': 0.5 }, 10_000);
  });

  it('QFT of a basis state |x> has amplitudes e^{2πi·x·k/N}/√N', () => {
    const n = 5;
    const N = 2 ** n;
    for (const x of [0, 1, 6, 19, 31]) {
      const ops: Operation[] = [];
      for (let q = 0; q < n; q++) if ((x >> q) & 1) ops.push(gate('x', [q]));
      for (let j = n - 1; j >= 0; j--) {
        ops.push(gate('h', [j]));
        for (let k = j - 1; k >= 0; k--) ops.push(gate('cp', [j, k], [Math.PI / 2 ** (j - k)]));
      }
      for (let q = 0; q < n / 2 - 0.5; q++) ops.push(gate('swap', [q, n - 1 - q]));
      const { re, im } = finalState(circuit(n, ops));
      for (let k = 0; k < N; k++) {
        const angle = (2 * Math.PI * x * k) / N;
        close(re[k]!, Math.cos(angle) / Math.sqrt(N), `x=${x} re[${k}]`);
        close(im[k]!, Math.sin(angle) / Math.sqrt(N), `x=${x} im[${k}]`);
      }
    }
  });

  it('rotations give cos²(θ/2) and the closed-form phases', () => {
    for (const theta of [0, 0.3, 1, Math.PI / 2, 2.5, Math.PI, -1.2]) {
      const c2 = Math.cos(theta / 2) ** 2;
      close(probabilities(circuit(1, [gate('rx', [0], [theta])]))[0]!, c2, `rx(${theta})`);
      close(probabilities(circuit(1, [gate('ry', [0], [theta])]))[0]!, c2, `ry(${theta})`);
      // rz only shows between two Hadamards: H·rz(θ)·H|0> has P(0) = cos²(θ/2).
      close(
        probabilities(circuit(1, [gate('h', [0]), gate('rz', [0], [theta]), gate('h', [0])]))[0]!,
        c2,
        `rz(${theta})`,
      );
      const phi = 0.7;
      const lambda = -1.9;
      const s = finalState(circuit(1, [gate('u', [0], [theta, phi, lambda])]));
      close(s.re[0]!, Math.cos(theta / 2), 'u |0> re');
      close(s.im[0]!, 0, 'u |0> im');
      close(s.re[1]!, Math.cos(phi) * Math.sin(theta / 2), 'u |1> re');
      close(s.im[1]!, Math.sin(phi) * Math.sin(theta / 2), 'u |1> im');
      const r = finalState(circuit(1, [gate('h', [0]), gate('rz', [0], [theta])]));
      close(r.re[0]!, Math.SQRT1_2 * Math.cos(-theta / 2), 'rz |0> re');
      close(r.im[1]!, Math.SQRT1_2 * Math.sin(theta / 2), 'rz |1> im');
    }
  });
});

describe('simulator: every gate against its textbook matrix', () => {
  const rnd = lcg(42);
  for (const name of Object.keys(GATE_ARITY) as GateName[]) {
    it(`${name} on random states, on every qubit order`, () => {
      const { qubits: k, params: np } = GATE_ARITY[name];
      const n = Math.max(3, k + 1);
      const orders =
        k === 1
          ? [[0], [1], [3]]
          : k === 2
            ? [
                [0, 1],
                [1, 0],
                [3, 1],
                [0, 2],
              ]
            : [
                [0, 1, 2],
                [2, 0, 3],
                [3, 2, 1],
                [1, 3, 0],
              ];
      for (const qubits of orders) {
        const prep = randomPrep(Math.max(n, 4), rnd);
        const params = Array.from({ length: np }, () => rnd() * 8 - 4);
        const before = finalState(circuit(Math.max(n, 4), prep));
        const expected = applyTextbook(before, textbook(name, params), qubits);
        const after = finalState(circuit(Math.max(n, 4), [...prep, gate(name, qubits, params)]));
        assertStatesEqual(
          after,
          expected,
          `${name}(${params.map((x) => x.toFixed(2)).join(',')}) on ${qubits.join(',')}`,
        );
      }
    });
  }

  it('random circuits of all gates match the textbook reference (fusion is exact)', () => {
    const names = Object.keys(GATE_ARITY) as GateName[];
    const r = lcg(5);
    for (let trial = 0; trial < 30; trial++) {
      const n = 2 + Math.floor(r() * 4);
      const ops: Operation[] = [];
      let ref = finalState(circuit(n, []));
      for (let g = 0; g < 60; g++) {
        const name = names[Math.floor(r() * names.length)]!;
        const { qubits: k, params: np } = GATE_ARITY[name];
        if (k > n) continue;
        const pool = Array.from({ length: n }, (_, i) => i);
        const qubits = Array.from({ length: k }, () => pool.splice(Math.floor(r() * pool.length), 1)[0]!);
        const params = Array.from({ length: np }, () => r() * 8 - 4);
        ops.push(gate(name, qubits, params));
        if (r() < 0.1) ops.push({ kind: 'barrier', qubits: [0] });
        ref = applyTextbook(ref, textbook(name, params), qubits);
      }
      assertStatesEqual(finalState(circuit(n, ops)), ref, `trial ${trial}`);
    }
  });

  it('controlled gates take controls first: cx [1, 0] flips qubit 0 when qubit 1 is set', () => {
    assert.equal(probabilities(circuit(2, [gate('x', [1]), gate('cx', [1, 0])]))[3], 1);
    assert.equal(probabilities(circuit(2, [gate('x', [1]), gate('cx', [0, 1])]))[2], 1);
    assert.equal(probabilities(circuit(3, [gate('x', [2]), gate('x', [0]), gate('ccx', [2, 0, 1])]))[0b111], 1);
    assert.equal(probabilities(circuit(3, [gate('x', [2]), gate('ccx', [2, 0, 1])]))[0b100], 1);
    assert.equal(probabilities(circuit(3, [gate('x', [1]), gate('x', [2]), gate('cswap', [2, 1, 0])]))[0b101], 1);
    assert.equal(probabilities(circuit(3, [gate('x', [1]), gate('cswap', [2, 1, 0])]))[0b010], 1);
  });
});

describe('simulator: measurement', () => {
  it('reset returns a qubit to |0> whatever it held', () => {
    const { counts } = simulate(
      circuit(2, [gate('x', [0]), gate('h', [1]), reset(0), reset(1), measure(0, 0), measure(1, 1)], 2),
      { shots: 500, seed: 1 },
    );
    assert.deepEqual(counts, { '00': 500 });
  });

  it('mid-circuit measurement collapses: measure, h, measure gives independent fair bits', () => {
    const shots = 8000;
    const { counts } = simulate(circuit(1, [gate('h', [0]), measure(0, 0), gate('h', [0]), measure(0, 1)], 2), {
      shots,
      seed: 11,
    });
    assertDistribution(counts, { '00': 0.25, '01': 0.25, '10': 0.25, '11': 0.25 }, shots);
  });

  it('a measured qubit then controls a gate with its collapsed value', () => {
    const shots = 4000;
    const { counts } = simulate(
      circuit(2, [gate('ry', [0], [1.1]), measure(0, 0), gate('cx', [0, 1]), measure(1, 1)], 2),
      { shots, seed: 5 },
    );
    const p1 = Math.sin(0.55) ** 2;
    assertDistribution(counts, { '00': 1 - p1, '11': p1 }, shots);
  });

  it('measure, reset, measure: the second read is always 0, the first is fair', () => {
    const shots = 4000;
    const { counts } = simulate(circuit(1, [gate('h', [0]), measure(0, 0), reset(0), measure(0, 1)], 2), {
      shots,
      seed: 8,
    });
    assertDistribution(counts, { '00': 0.5, '01': 0.5 }, shots);
  });

  it('100k shots of a known distribution land within 5 sigma, on both sampling paths', () => {
    const angles = [0.4, 1.3, 2.2];
    const ops: Operation[] = angles.map((t, q) => gate('ry', [q], [t]));
    const expected: Record<string, number> = {};
    for (let i = 0; i < 8; i++) {
      const key = [2, 1, 0].map((q) => ((i >> q) & 1 ? '1' : '0')).join('');
      expected[key] = angles.reduce(
        (acc, t, q) => acc * ((i >> q) & 1 ? Math.sin(t / 2) ** 2 : Math.cos(t / 2) ** 2),
        1,
      );
    }
    const measures = [0, 1, 2].map((q) => measure(q, q));
    const terminal = simulate(circuit(3, [...ops, ...measures], 3), { shots: 100_000, seed: 2024 });
    assertDistribution(terminal.counts, expected, 100_000);
    assert.equal(
      Object.values(terminal.counts).reduce((a, b) => a + b, 0),
      100_000,
    );
    // A reset of an extra qubit forces shot-by-shot collapse; the distribution must not change.
    const perShot = simulate(circuit(4, [...ops, reset(3), ...measures], 3), { shots: 20_000, seed: 2024 });
    assertDistribution(perShot.counts, expected, 20_000);
  });

  it('the 5-sigma check rejects a wrong distribution (it can fail)', () => {
    const { counts } = simulate(circuit(1, [gate('ry', [0], [1]), measure(0, 0)], 1), { shots: 100_000, seed: 1 });
    assert.throws(() => assertDistribution(counts, { '0': 0.75, '1': 0.25 }, 100_000));
  });

  it('same seed, same counts; another seed or none, other counts', () => {
    const c = circuit(4, [...[0, 1, 2, 3].map((q) => gate('h', [q])), ...[0, 1, 2, 3].map((q) => measure(q, q))], 4);
    const a = simulate(c, { shots: 2000, seed: 123 });
    assert.deepEqual(simulate(c, { shots: 2000, seed: 123 }), a);
    assert.notDeepEqual(simulate(c, { shots: 2000, seed: 124 }), a);
    assert.notDeepEqual(simulate(c, { shots: 2000 }).counts, simulate(c, { shots: 2000 }).counts);
    const mid = circuit(2, [gate('h', [0]), measure(0, 0), gate('h', [1]), reset(0), measure(1, 1)], 2);
    assert.deepEqual(simulate(mid, { shots: 300, seed: 9 }), simulate(mid, { shots: 300, seed: 9 }));
  });

  it('bitstrings: clbit 0 rightmost, first-declared register rightmost, unmeasured bits 0', () => {
    const cregs = [
      { name: 'a', size: 2, offset: 0 },
      { name: 'b', size: 3, offset: 2 },
    ];
    const ops = [gate('x', [0]), gate('x', [3]), ...[0, 1, 2, 3, 4].map((q) => measure(q, q))];
    assert.deepEqual(simulate(circuit(5, ops, 5, cregs), { shots: 10, seed: 1 }).counts, { '01001': 10 });
    // Qubit 0 read into b[1] (clbit 3) only; every other clbit stays 0.
    assert.deepEqual(simulate(circuit(5, [gate('x', [0]), measure(0, 3)], 5, cregs), { shots: 7 }).counts, {
      '01000': 7,
    });
  });

  it('no measurements: all-zero bitstrings of numClbits, and "" with no clbits', () => {
    assert.deepEqual(simulate(circuit(2, [gate('x', [0])], 3), { shots: 5 }).counts, { '000': 5 });
    assert.deepEqual(simulate(circuit(2, [gate('h', [0])]), { shots: 9 }), { counts: { '': 9 }, shots: 9 });
  });

  it('finalState ignores measurements and refuses resets', () => {
    const s = finalState(circuit(1, [gate('x', [0]), measure(0, 0)], 1));
    assert.deepEqual([...s.re], [0, 1]);
    assert.throws(() => finalState(circuit(1, [gate('x', [0]), reset(0)])), NonUnitaryCircuitError);
  });
});

describe('simulator: limits', () => {
  it('shots must be a positive integer up to 10,000,000', () => {
    const c = circuit(1, [measure(0, 0)], 1);
    for (const shots of [0, -1, 1.5, Number.NaN, 10_000_001]) {
      assert.throws(
        () => simulate(c, { shots }),
        (err: unknown) => err instanceof TypeError && /shots/.test(err.message),
      );
    }
  });

  it('a circuit wider than the memory allows fails before allocating, with sizes and a way out', () => {
    assert.throws(
      () => simulate(circuit(34, [measure(0, 0)], 1), { shots: 1 }),
      (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.backend, 'quantum-simulator');
        assert.equal(err.retryable, false);
        assert.match(
          err.message,
          /circuit needs 34 qubits \(256 GiB of state\); this simulator holds at most \d+ qubits in [\d.]+ [KMGT]iB here/,
        );
        assert.match(err.message, /use fewer qubits or a hardware backend/);
        return true;
      },
    );
    assert.throws(
      () => simulate(circuit(5, []), { shots: 1, maxQubits: 4, backend: 'sim-small' }),
      (err: unknown) =>
        err instanceof BackendError &&
        err.backend === 'sim-small' &&
        /circuit needs 5 qubits \(512 bytes of state\).*at most 4 qubits/.test(err.message),
    );
    assert.equal(simulate(circuit(4, []), { shots: 1, maxQubits: 4 }).shots, 1);
  });

  it('maxQubitsFor: the largest n with 16·2^n bytes within the budget', () => {
    assert.equal(maxQubitsFor(8 * 1024 ** 3), 29);
    for (const n of [1, 10, 20, 33]) {
      assert.equal(maxQubitsFor(16 * 2 ** n), n);
      assert.equal(maxQubitsFor(16 * 2 ** n - 1), n - 1);
    }
  });

  it('rejects malformed operations naming the problem', () => {
    assert.throws(() => finalState(circuit(2, [gate('cx', [0, 2])])), /qubit 2/);
    assert.throws(() => finalState(circuit(2, [gate('cx', [1, 1])])), /names a qubit twice/);
    assert.throws(() => finalState(circuit(2, [gate('rx', [0])])), /takes 1 qubit\(s\) and 1 parameter/);
    assert.throws(() => simulate(circuit(1, [measure(0, 1)], 1), { shots: 1 }), /clbit 1/);
  });
});
