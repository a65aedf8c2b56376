import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GATE_ARITY,
  type Circuit,
  type GateName,
  type Operation,
  type Register,
} from '../../backends/quantum/circuit.ts';
import { parseQasm, toQasm3, QasmEmitError } from '../../backends/quantum/qasm/index.ts';

const g = (name: GateName, qubits: number[], params: number[] = []): Operation => ({
  kind: 'gate',
  name,
  qubits,
  params,
});

test('a Bell circuit is written as plain OpenQASM 3', () => {
  const circuit: Circuit = {
    numQubits: 2,
    numClbits: 2,
    qregs: [{ name: 'q', size: 2, offset: 0 }],
    cregs: [{ name: 'c', size: 2, offset: 0 }],
    ops: [
      g('h', [0]),
      g('cx', [0, 1]),
      { kind: 'measure', qubit: 0, clbit: 0 },
      { kind: 'measure', qubit: 1, clbit: 1 },
    ],
  };
  assert.equal(
    toQasm3(circuit),
    [
      'OPENQASM 3.0;',
      'include "stdgates.inc";',
      'qubit[2] q;',
      'bit[2] c;',
      'h q[0];',
      'cx q[0], q[1];',
      'c[0] = measure q[0];',
      'c[1] = measure q[1];',
      '',
    ].join('\n'),
  );
});

test('gates missing from stdgates.inc get one definition each, only when used', () => {
  const circuit: Circuit = {
    numQubits: 2,
    numClbits: 0,
    qregs: [{ name: 'q', size: 2, offset: 0 }],
    cregs: [],
    ops: [
      g('rzz', [0, 1], [0.5]),
      g('rzz', [1, 0], [0.25]),
      g('sxdg', [1]),
      g('u', [0], [1, 2, 3]),
      g('cu', [0, 1], [1, 2, 3, 4]),
    ],
  };
  const text = toQasm3(circuit);
  assert.equal(text.match(/^gate rzz\(_theta\) _a, _b \{/gm)?.length, 1);
  assert.equal(text.match(/^gate sxdg _a \{/gm)?.length, 1);
  assert.doesNotMatch(text, /gate (rxx|ryy|ecr)/);
  // U is the OpenQASM 3 builtin (stdgates.inc has no `u`); cu with 4 parameters is in stdgates.inc.
  assert.match(text, /^U\(1, 2, 3\) q\[0\];$/m);
  assert.match(text, /^cu\(1, 2, 3, 4\) q\[0\], q\[1\];$/m);
  // definitions come before the declarations that precede the body
  assert.ok(text.indexOf('gate rzz') < text.indexOf('qubit[2] q;'));
  assert.deepEqual(parseQasm(text), circuit);
});

// ---- a small 2-qubit unitary calculator, independent of the simulator, to check the definitions ----
type C = [number, number];
type Matrix = C[][];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const matmul = (a: Matrix, b: Matrix): Matrix =>
  a.map((row, i) => b[0]!.map((_, j) => row.reduce<C>((acc, _x, k) => cadd(acc, cmul(a[i]![k]!, b[k]![j]!)), [0, 0])));
const identity = (n: number): Matrix =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): C => [i === j ? 1 : 0, 0]));
const S2 = Math.SQRT1_2;
const ONE_QUBIT: Record<string, (p: readonly number[]) => Matrix> = {
  h: () => [
    [
      [S2, 0],
      [S2, 0],
    ],
    [
      [S2, 0],
      [-S2, 0],
    ],
  ],
  x: () => [
    [
      [0, 0],
      [1, 0],
    ],
    [
      [1, 0],
      [0, 0],
    ],
  ],
  s: () => [
    [
      [1, 0],
      [0, 0],
    ],
    [
      [0, 0],
      [0, 1],
    ],
  ],
  rz: ([t]) => [
    [
      [Math.cos(t! / 2), -Math.sin(t! / 2)],
      [0, 0],
    ],
    [
      [0, 0],
      [Math.cos(t! / 2), Math.sin(t! / 2)],
    ],
  ],
  rx: ([t]) => [
    [
      [Math.cos(t! / 2), 0],
      [0, -Math.sin(t! / 2)],
    ],
    [
      [0, -Math.sin(t! / 2)],
      [Math.cos(t! / 2), 0],
    ],
  ],
};
/** Embeds a one-qubit matrix on qubit k of n (qubit 0 is the least significant bit of the basis index). */
function embed(m: Matrix, k: number, n: number): Matrix {
  const dim = 2 ** n;
  return Array.from({ length: dim }, (_, r) =>
    Array.from({ length: dim }, (_, c): C => {
      for (let b = 0; b < n; b++) if (b !== k && ((r >> b) & 1) !== ((c >> b) & 1)) return [0, 0];
      return m[(r >> k) & 1]![(c >> k) & 1]!;
    }),
  );
}
function cxMatrix(control: number, target: number, n: number): Matrix {
  const dim = 2 ** n;
  return Array.from({ length: dim }, (_, r) =>
    Array.from({ length: dim }, (_, c): C => {
      const image = (c >> control) & 1 ? c ^ (1 << target) : c;
      return [r === image ? 1 : 0, 0];
    }),
  );
}
function unitaryOf(ops: readonly Operation[], n: number): Matrix {
  let u = identity(2 ** n);
  for (const op of ops) {
    assert.equal(op.kind, 'gate');
    if (op.kind !== 'gate') continue;
    const step =
      op.name === 'cx'
        ? cxMatrix(op.qubits[0]!, op.qubits[1]!, n)
        : embed(ONE_QUBIT[op.name]!(op.params), op.qubits[0]!, n);
    u = matmul(step, u);
  }
  return u;
}
/** exp(-i θ/2 P) for a Pauli product P with P² = I. */
function pauliRotation(p: Matrix, theta: number): Matrix {
  const c = Math.cos(theta / 2);
  const s = Math.sin(theta / 2);
  return p.map((row, i) => row.map((x, j): C => cadd([i === j ? c : 0, 0], cmul([0, -s], x))));
}
const PX: Matrix = ONE_QUBIT.x!([]);
const PY: Matrix = [
  [
    [0, 0],
    [0, -1],
  ],
  [
    [0, 1],
    [0, 0],
  ],
];
const PZ: Matrix = [
  [
    [1, 0],
    [0, 0],
  ],
  [
    [0, 0],
    [-1, 0],
  ],
];
const on = (pa: Matrix, pb: Matrix): Matrix => matmul(embed(pa, 0, 2), embed(pb, 1, 2));
function assertEqualUpToPhase(actual: Matrix, expected: Matrix, label: string): void {
  let phase: C | undefined;
  for (let i = 0; i < expected.length; i++) {
    for (let j = 0; j < expected.length; j++) {
      const e = expected[i]![j]!;
      const a = actual[i]![j]!;
      if (phase === undefined && Math.hypot(e[0], e[1]) > 1e-6) {
        const d = e[0] ** 2 + e[1] ** 2;
        phase = [(a[0] * e[0] + a[1] * e[1]) / d, (a[1] * e[0] - a[0] * e[1]) / d];
      }
      const want = phase === undefined ? [0, 0] : cmul(phase, e);
      assert.ok(
        Math.hypot(a[0] - want[0]!, a[1] - want[1]!) < 1e-9,
        `${label}: entry ${i},${j} is ${a}, expected ${want}`,
      );
    }
  }
  assert.ok(phase !== undefined && Math.abs(Math.hypot(phase[0], phase[1]) - 1) < 1e-9, `${label}: not a pure phase`);
}

test('the emitted definitions of rxx, ryy, rzz, ecr and sxdg implement those gates', () => {
  const theta = 0.731;
  const sxdg: Matrix = [
    [
      [0.5, -0.5],
      [0.5, 0.5],
    ],
    [
      [0.5, 0.5],
      [0.5, -0.5],
    ],
  ];
  const expected: Record<string, Matrix> = {
    rxx: pauliRotation(on(PX, PX), theta),
    ryy: pauliRotation(on(PY, PY), theta),
    rzz: pauliRotation(on(PZ, PZ), theta),
    // Qiskit's ECR: RZX(-π/4) · X on the first qubit · RZX(π/4), with RZX = exp(-iθ/2 Z⊗X), Z on the first qubit
    ecr: matmul(
      pauliRotation(on(PZ, PX), -Math.PI / 4),
      matmul(embed(PX, 0, 2), pauliRotation(on(PZ, PX), Math.PI / 4)),
    ),
    sxdg: embed(sxdg, 0, 2),
  };
  for (const [name, want] of Object.entries(expected)) {
    const arity = GATE_ARITY[name as GateName];
    const circuit: Circuit = {
      numQubits: 2,
      numClbits: 0,
      qregs: [{ name: 'q', size: 2, offset: 0 }],
      cregs: [],
      ops: [g(name as GateName, arity.qubits === 2 ? [0, 1] : [0], arity.params === 1 ? [theta] : [])],
    };
    // Renaming the definition makes the parser expand its body instead of keeping the IR gate.
    const renamed = toQasm3(circuit).replace(new RegExp(`\\b${name}\\b`, 'g'), `my_${name}`);
    const expanded = parseQasm(renamed).ops;
    assert.ok(expanded.length > 1, `${name} was expanded`);
    assertEqualUpToPhase(unitaryOf(expanded, 2), want, name);
  }
});

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRegisters(random: () => number, prefix: string, count: number): Register[] {
  const registers: Register[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const size = 1 + Math.floor(random() * 3);
    registers.push({ name: `${prefix}${i}`, size, offset });
    offset += size;
  }
  return registers;
}

function randomParam(random: () => number): number {
  const r = random();
  if (r < 0.05) return -0;
  if (r < 0.1) return 0;
  if (r < 0.15) return (random() - 0.5) * 1e-12;
  if (r < 0.2) return (random() - 0.5) * 1e22;
  return (random() - 0.5) * 4 * Math.PI;
}

function randomCircuit(random: () => number): Circuit {
  const qregs = randomRegisters(random, random() < 0.5 ? 'q' : 'reg', 1 + Math.floor(random() * 3));
  const cregs = randomRegisters(random, 'c', Math.floor(random() * 3));
  const numQubits = qregs.reduce((n, r) => n + r.size, 0);
  const numClbits = cregs.reduce((n, r) => n + r.size, 0);
  const names = (Object.keys(GATE_ARITY) as GateName[]).filter((n) => GATE_ARITY[n].qubits <= numQubits);
  const ops: Operation[] = [];
  const opCount = Math.floor(random() * 40);
  for (let i = 0; i < opCount; i++) {
    const pick = random();
    const shuffled = Array.from({ length: numQubits }, (_, q) => q).sort(() => random() - 0.5);
    if (pick < 0.75) {
      const name = names[Math.floor(random() * names.length)]!;
      const arity = GATE_ARITY[name];
      ops.push(
        g(
          name,
          shuffled.slice(0, arity.qubits),
          Array.from({ length: arity.params }, () => randomParam(random)),
        ),
      );
    } else if (pick < 0.85 && numClbits > 0) {
      ops.push({ kind: 'measure', qubit: shuffled[0]!, clbit: Math.floor(random() * numClbits) });
    } else if (pick < 0.92) {
      ops.push({ kind: 'reset', qubit: shuffled[0]! });
    } else {
      ops.push({ kind: 'barrier', qubits: shuffled.slice(0, 1 + Math.floor(random() * numQubits)) });
    }
  }
  return { numQubits, numClbits, qregs, cregs, ops };
}

test('parseQasm(toQasm3(c)) equals c on 500 random circuits (seeded)', () => {
  const random = mulberry32(20240611);
  for (let i = 0; i < 500; i++) {
    const circuit = randomCircuit(random);
    const text = toQasm3(circuit);
    assert.deepEqual(parseQasm(text), circuit, `circuit ${i}:\n${text}`);
  }
});

test('physical qubits: $i operands, only bit registers declared, round trip through the $ register', () => {
  const circuit: Circuit = {
    numQubits: 5,
    numClbits: 2,
    qregs: [{ name: '$', size: 5, offset: 0 }],
    cregs: [{ name: 'meas', size: 2, offset: 0 }],
    ops: [
      g('sx', [4]),
      g('ecr', [4, 2]),
      g('rz', [2], [-0.125]),
      { kind: 'measure', qubit: 4, clbit: 0 },
      { kind: 'measure', qubit: 2, clbit: 1 },
    ],
  };
  const text = toQasm3(circuit);
  assert.doesNotMatch(text, /qubit\[/);
  assert.match(text, /^bit\[2\] meas;$/m);
  assert.match(text, /^ecr \$4, \$2;$/m);
  assert.match(text, /^meas\[1\] = measure \$2;$/m);
  assert.deepEqual(parseQasm(text), circuit);
  const named: Circuit = { ...circuit, qregs: [{ name: 'q', size: 5, offset: 0 }] };
  const forced = toQasm3(named, { physicalQubits: true });
  assert.equal(forced, text);
});

test('numbers keep full precision and the sign of zero', () => {
  const values = [Math.PI, -Math.E, 1 / 3, 5e-324, 1.7976931348623157e308, -0, 0.1 + 0.2, 123456789.12345679];
  const circuit: Circuit = {
    numQubits: 1,
    numClbits: 0,
    qregs: [{ name: 'q', size: 1, offset: 0 }],
    cregs: [],
    ops: values.map((v) => g('rz', [0], [v])),
  };
  const parsed = parseQasm(toQasm3(circuit));
  parsed.ops.forEach((op, i) => {
    assert.ok(
      op.kind === 'gate' && Object.is(op.params[0], values[i]),
      `value ${values[i]} came back as ${JSON.stringify(op)}`,
    );
  });
});

test('registers that cannot be declared as written fall back to one q / c register', () => {
  const circuit: Circuit = {
    numQubits: 3,
    numClbits: 1,
    qregs: [{ name: 'h', size: 3, offset: 0 }],
    cregs: [{ name: 'bad name', size: 1, offset: 0 }],
    ops: [g('cx', [2, 0]), { kind: 'measure', qubit: 1, clbit: 0 }],
  };
  const text = toQasm3(circuit);
  assert.match(text, /^qubit\[3\] q;$/m);
  assert.match(text, /^bit\[1\] c;$/m);
  const parsed = parseQasm(text);
  assert.deepEqual(parsed.ops, circuit.ops);
  const noRegisters: Circuit = { numQubits: 2, numClbits: 0, qregs: [], cregs: [], ops: [g('h', [1])] };
  assert.deepEqual(parseQasm(toQasm3(noRegisters)).ops, noRegisters.ops);
});

test('non-finite parameters and out-of-range qubits are QasmEmitErrors naming the operation', () => {
  const base = { numQubits: 1, numClbits: 0, qregs: [{ name: 'q', size: 1, offset: 0 }], cregs: [] };
  assert.throws(
    () => toQasm3({ ...base, ops: [g('h', [0]), g('rx', [0], [Number.NaN])] }),
    (e: unknown) =>
      e instanceof QasmEmitError && e.name === 'QasmEmitError' && e.opIndex === 1 && /NaN/.test(e.message),
  );
  assert.throws(
    () => toQasm3({ ...base, ops: [g('x', [1])] }),
    (e: unknown) =>
      e instanceof QasmEmitError && e.opIndex === 0 && /qubit 1, but the circuit has 1 qubits/.test(e.message),
  );
});
