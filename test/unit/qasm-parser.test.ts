import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATE_ARITY, type Circuit, type GateName, type Operation } from '../../backends/quantum/circuit.ts';
import { parseQasm, qasmInputs, QasmError } from '../../backends/quantum/qasm/index.ts';

const PI = Math.PI;
const g = (name: GateName, qubits: number[], params: number[] = []): Operation => ({
  kind: 'gate',
  name,
  qubits,
  params,
});
const m = (qubit: number, clbit: number): Operation => ({ kind: 'measure', qubit, clbit });
const reg = (name: string, size: number, offset: number) => ({ name, size, offset });

/** Asserts that parsing fails with a QasmError at line:column whose message matches `pattern`. */
function assertQasmError(
  source: string,
  line: number,
  column: number,
  pattern: RegExp,
  params?: Record<string, number>,
): void {
  assert.throws(
    () => parseQasm(source, params),
    (error: unknown) => {
      assert.ok(error instanceof QasmError, `expected QasmError, got ${String(error)}`);
      assert.equal(error.name, 'QasmError');
      assert.match(error.message, pattern);
      assert.equal(`${error.line}:${error.column}`, `${line}:${column}`, error.message);
      assert.ok(error.message.startsWith(`line ${line}, column ${column}: `));
      return true;
    },
  );
}

test('Bell state in OpenQASM 2 and 3 gives the same circuit', () => {
  const expected: Circuit = {
    numQubits: 2,
    numClbits: 2,
    qregs: [reg('q', 2, 0)],
    cregs: [reg('c', 2, 0)],
    ops: [g('h', [0]), g('cx', [0, 1]), m(0, 0), m(1, 1)],
  };
  const v2 =
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[1];\n';
  const v3 =
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc[0] = measure q[0];\nc[1] = measure q[1];\n';
  assert.deepEqual(parseQasm(v2), expected);
  assert.deepEqual(parseQasm(v3), expected);
  // no header means OpenQASM 3
  assert.deepEqual(parseQasm(v3.replace('OPENQASM 3.0;\n', '')), expected);
});

test('GHZ with whole-register measurement in both versions', () => {
  const ops = [g('h', [0]), g('cx', [0, 1]), g('cx', [1, 2]), m(0, 0), m(1, 1), m(2, 2)];
  const v2 = parseQasm(
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; measure q -> c;',
  );
  const v3 = parseQasm(
    'OPENQASM 3; include "stdgates.inc"; qubit[3] q; bit[3] c; h q[0]; cx q[0], q[1]; cx q[1], q[2]; c = measure q;',
  );
  const v3decl = parseQasm('OPENQASM 3; qubit[3] q; h q[0]; cx q[0], q[1]; cx q[1], q[2]; bit[3] c = measure q;');
  for (const c of [v2, v3, v3decl]) {
    assert.equal(c.numQubits, 3);
    assert.equal(c.numClbits, 3);
    assert.deepEqual(c.ops, ops);
  }
});

test('every IR gate parses under its own name with its arity', () => {
  for (const [name, arity] of Object.entries(GATE_ARITY) as [GateName, { qubits: number; params: number }][]) {
    const params = Array.from({ length: arity.params }, (_, i) => 0.25 * (i + 1));
    const qubits = Array.from({ length: arity.qubits }, (_, i) => arity.qubits - 1 - i);
    const call = `${name}${params.length ? `(${params.join(', ')})` : ''} ${qubits.map((q) => `q[${q}]`).join(', ')};`;
    const c = parseQasm(`OPENQASM 3; include "stdgates.inc"; qubit[3] q; ${call}`);
    assert.deepEqual(c.ops, [g(name, qubits, params)], name);
  }
});

test('every alias maps onto its IR gate', () => {
  const cases: [string, Operation][] = [
    ['u3(0.1, 0.2, 0.3) q[0];', g('u', [0], [0.1, 0.2, 0.3])],
    ['U(0.1, 0.2, 0.3) q[0];', g('u', [0], [0.1, 0.2, 0.3])],
    ['u(0.1, 0.2, 0.3) q[0];', g('u', [0], [0.1, 0.2, 0.3])],
    ['u1(0.4) q[1];', g('p', [1], [0.4])],
    ['phase(0.4) q[1];', g('p', [1], [0.4])],
    ['cphase(0.5) q[0], q[1];', g('cp', [0, 1], [0.5])],
    ['cu1(0.5) q[1], q[0];', g('cp', [1, 0], [0.5])],
    ['cnot q[0], q[1];', g('cx', [0, 1])],
    ['CX q[1], q[0];', g('cx', [1, 0])],
    ['toffoli q[0], q[1], q[2];', g('ccx', [0, 1, 2])],
    ['u2(0.6, 0.7) q[2];', g('u', [2], [PI / 2, 0.6, 0.7])],
    ['cu3(0.1, 0.2, 0.3) q[0], q[2];', g('cu', [0, 2], [0.1, 0.2, 0.3, 0])],
    ['u0(1) q[0];', g('id', [0])],
    ['fredkin q[2], q[0], q[1];', g('cswap', [2, 0, 1])],
  ];
  for (const [call, op] of cases) {
    assert.deepEqual(parseQasm(`OPENQASM 2.0; include "qelib1.inc"; qreg q[3]; ${call}`).ops, [op], call);
  }
});

test('the full qelib1 gate set is accepted in OpenQASM 2', () => {
  const src = `OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
u3(1,2,3) q[0]; u2(1,2) q[0]; u1(1) q[0]; cx q[0],q[1]; id q[0]; x q[0]; y q[0]; z q[0]; h q[0]; s q[0]; sdg q[0];
t q[0]; tdg q[0]; rx(1) q[0]; ry(1) q[0]; rz(1) q[0]; cz q[0],q[1]; cy q[0],q[1]; ch q[0],q[1]; ccx q[0],q[1],q[2];
crz(1) q[0],q[1]; cu1(1) q[0],q[1]; cu3(1,2,3) q[0],q[1]; swap q[0],q[1]; cswap q[0],q[1],q[2]; rxx(1) q[0],q[1];
rzz(1) q[0],q[1]; sx q[0]; sxdg q[0]; p(1) q[0]; cp(1) q[0],q[1]; crx(1) q[0],q[1]; cry(1) q[0],q[1];
u(1,2,3) q[0]; U(1,2,3) q[0]; CX q[0],q[1]; u0(1) q[0];`;
  const names = parseQasm(src).ops.map((op) => (op.kind === 'gate' ? op.name : op.kind));
  assert.deepEqual(names, [
    'u',
    'u',
    'p',
    'cx',
    'id',
    'x',
    'y',
    'z',
    'h',
    's',
    'sdg',
    't',
    'tdg',
    'rx',
    'ry',
    'rz',
    'cz',
    'cy',
    'ch',
    'ccx',
    'crz',
    'cp',
    'cu',
    'swap',
    'cswap',
    'rxx',
    'rzz',
    'sx',
    'sxdg',
    'p',
    'cp',
    'crx',
    'cry',
    'u',
    'u',
    'cx',
    'id',
  ]);
});

test('gate definitions expand inline, nested and with parameters', () => {
  const src = `OPENQASM 2.0;
include "qelib1.inc";
gate half(x) a { rz(x/2) a; }
gate pair(y, z) a, b { half(y*2) a; cx a, b; half(-y) b; u1(z^2) b; }
gate outer(w) a, b, c { pair(w, w+1) c, a; barrier a, b; pair(0.5, 2) b, c; }
qreg q[3];
outer(0.3) q[0], q[1], q[2];`;
  const c = parseQasm(src);
  const y1 = 0.3;
  assert.deepEqual(c.ops, [
    g('rz', [2], [(y1 * 2) / 2]),
    g('cx', [2, 0]),
    g('rz', [0], [-y1 / 2]),
    g('p', [0], [(y1 + 1) ** 2]),
    { kind: 'barrier', qubits: [0, 1] },
    g('rz', [1], [(0.5 * 2) / 2]),
    g('cx', [1, 2]),
    g('rz', [2], [-0.5 / 2]),
    g('p', [2], [2 ** 2]),
  ]);
});

test('a definition with a builtin name and arity keeps the IR gate; another arity shadows it', () => {
  const src = `OPENQASM 3; include "stdgates.inc";
gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }
gate ecr a, b { h b; }
gate sx(k) a { rx(k) a; }
qubit[2] q;
rzz(0.2) q[0], q[1]; ecr q[1], q[0]; sx(0.3) q[1];`;
  assert.deepEqual(parseQasm(src).ops, [g('rzz', [0, 1], [0.2]), g('ecr', [1, 0]), g('rx', [1], [0.3])]);
});

test('register broadcast over single gates, pairs and measurements', () => {
  const src = `OPENQASM 2.0; include "qelib1.inc";
qreg a[2]; qreg b[2]; creg c[2]; creg d[2];
h a; cx a, b; cx a[0], b; measure b -> d; measure a[1] -> c[0]; reset a; barrier a, b[1];`;
  const c = parseQasm(src);
  assert.deepEqual(c.qregs, [reg('a', 2, 0), reg('b', 2, 2)]);
  assert.deepEqual(c.cregs, [reg('c', 2, 0), reg('d', 2, 2)]);
  assert.deepEqual(c.ops, [
    g('h', [0]),
    g('h', [1]),
    g('cx', [0, 2]),
    g('cx', [1, 3]),
    g('cx', [0, 2]),
    g('cx', [0, 3]),
    m(2, 2),
    m(3, 3),
    m(1, 0),
    { kind: 'reset', qubit: 0 },
    { kind: 'reset', qubit: 1 },
    { kind: 'barrier', qubits: [0, 1, 3] },
  ]);
  assertQasmError('qreg a[2];\nqreg b[3];\ncx a, b;', 3, 7, /different sizes \(2 and 3\)/);
  assertQasmError('qreg a[2];\ncreg c[3];\nmeasure a -> c;', 3, 14, /as many bits as qubits/);
});

test('OpenQASM 3 ranges, negative indices, single qubits and barrier without operands', () => {
  const c = parseQasm('qubit[4] q; qubit r; bit b; h q[1:3]; x q[-1]; z q[0:2:3]; y r; b = measure r; barrier;');
  assert.deepEqual(c.qregs, [reg('q', 4, 0), reg('r', 1, 4)]);
  assert.deepEqual(c.ops, [
    g('h', [1]),
    g('h', [2]),
    g('h', [3]),
    g('x', [3]),
    g('z', [0]),
    g('z', [2]),
    g('y', [4]),
    m(4, 0),
    { kind: 'barrier', qubits: [0, 1, 2, 3, 4] },
  ]);
});

test('inputs: declaration order, binding, const expressions, missing and unknown params', () => {
  const src = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
input float phi;
input angle gamma;
input int reps;
const float twice = 2 * theta;
qubit[1] q;
rx(theta) q[0]; ry(phi) q[0]; rz(gamma) q[0]; p(twice + reps) q[0];`;
  assert.deepEqual(qasmInputs(src), ['theta', 'phi', 'gamma', 'reps']);
  const c = parseQasm(src, { theta: 0.1, phi: -0.2, gamma: 3, reps: 2 });
  assert.deepEqual(c.ops, [g('rx', [0], [0.1]), g('ry', [0], [-0.2]), g('rz', [0], [3]), g('p', [0], [2 * 0.1 + 2])]);
  assertQasmError(src, 4, 13, /input 'phi' has no value; pass params: \{ phi: \.\.\. \}/, { theta: 1 });
  assertQasmError(src, 1, 1, /unknown parameter 'extra'.*theta, phi, gamma, reps/, {
    theta: 1,
    phi: 1,
    gamma: 1,
    reps: 1,
    extra: 2,
  });
  assertQasmError(src, 6, 11, /declared int.*pass an integer/, { theta: 1, phi: 1, gamma: 1, reps: 1.5 });
  assertQasmError('qubit q; h q;', 1, 1, /unknown parameter 'a'.*declares no inputs/, { a: 1 });
  assert.deepEqual(qasmInputs('qubit q; h q;'), []);
  // listing inputs needs no values, even where an input divides
  assert.deepEqual(qasmInputs('input float a; input int n; qubit[n] q; rz(1 / a) q[0];'), ['a', 'n']);
  assert.throws(() => qasmInputs('qubit q; foo q;'), QasmError);
});

test('expressions: constants, operators, precedence, functions and literals', () => {
  const cases: [string, number][] = [
    ['pi', PI],
    ['π', PI],
    ['tau', 2 * PI],
    ['τ', 2 * PI],
    ['euler', Math.E],
    ['-pi/4', -PI / 4],
    ['2**3**2', 2 ** 9],
    ['-2**2', -4],
    ['(1+2)*3', 9],
    ['1+2*3', 7],
    ['10/4', 2.5],
    ['7 - 2 - 1', 4],
    ['sin(pi/6)', Math.sin(PI / 6)],
    ['cos(0.3)', Math.cos(0.3)],
    ['tan(0.3)', Math.tan(0.3)],
    ['exp(1)', Math.E],
    ['ln(2)', Math.log(2)],
    ['sqrt(2)', Math.SQRT2],
    ['arcsin(0.5)', Math.asin(0.5)],
    ['arccos(0.5)', Math.acos(0.5)],
    ['arctan(1)', Math.atan(1)],
    ['1e-3', 0.001],
    ['2.5E+2', 250],
    ['.5', 0.5],
    ['3.', 3],
    ['1_000', 1000],
    ['0x10', 16],
    ['-(-0.25)', 0.25],
    ['+0.5', 0.5],
    ['1.2345678901234567', 1.2345678901234567],
  ];
  for (const [expr, value] of cases) {
    const c = parseQasm(`qubit q; rz(${expr}) q;`);
    assert.deepEqual(c.ops, [g('rz', [0], [value])], expr);
  }
  assert.deepEqual(parseQasm('OPENQASM 2.0; qreg q[1]; rz(2^3) q[0];').ops, [g('rz', [0], [8])]);
  assertQasmError('qubit q;\nrz(2^3) q;', 2, 5, /write powers as '\*\*'/);
  assertQasmError('qubit q;\nrz(1/0) q;', 2, 4, /evaluates to Infinity/);
  assertQasmError('qubit q;\nrz(foo(1)) q;', 2, 4, /unknown function 'foo'/);
  assertQasmError('qubit q;\nrz(theta) q;', 2, 4, /unknown name 'theta'.*input float/);
});

test('ctrl @ maps onto controlled IR gates', () => {
  const cases: [string, Operation[]][] = [
    ['ctrl @ x q[0], q[1];', [g('cx', [0, 1])]],
    ['ctrl @ ctrl @ x q[2], q[0], q[1];', [g('ccx', [2, 0, 1])]],
    ['ctrl(2) @ x q[0], q[1], q[2];', [g('ccx', [0, 1, 2])]],
    ['ctrl @ y q[0], q[1];', [g('cy', [0, 1])]],
    ['ctrl @ z q[0], q[1];', [g('cz', [0, 1])]],
    ['ctrl @ h q[0], q[1];', [g('ch', [0, 1])]],
    ['ctrl @ p(0.3) q[0], q[1];', [g('cp', [0, 1], [0.3])]],
    ['ctrl @ rx(0.3) q[0], q[1];', [g('crx', [0, 1], [0.3])]],
    ['ctrl @ ry(0.3) q[0], q[1];', [g('cry', [0, 1], [0.3])]],
    ['ctrl @ rz(0.3) q[0], q[1];', [g('crz', [0, 1], [0.3])]],
    ['ctrl @ swap q[0], q[1], q[2];', [g('cswap', [0, 1, 2])]],
    ['ctrl @ u(0.1, 0.2, 0.3) q[1], q[0];', [g('cu', [1, 0], [0.1, 0.2, 0.3, 0])]],
    ['ctrl @ U(0.1, 0.2, 0.3) q[1], q[0];', [g('cu', [1, 0], [0.1, 0.2, 0.3, 0])]],
    ['ctrl @ gphase(0.7) q[2];', [g('p', [2], [0.7])]],
    ['ctrl @ mine(0.5) q[0], q[1];', [g('p', [0], [0.25]), g('crx', [0, 1], [0.5])]],
  ];
  for (const [call, ops] of cases) {
    const src = `include "stdgates.inc"; gate mine(a) t { gphase(a/2); rx(a) t; } qubit[3] q; ${call}`;
    assert.deepEqual(parseQasm(src).ops, ops, call);
  }
  assertQasmError('qubit[2] q;\nctrl @ sx q[0], q[1];', 2, 1, /ctrl @ cannot control 'sx'.*Controllable gates/);
  assertQasmError('qubit[2] q;\nnegctrl @ x q[0], q[1];', 2, 1, /'negctrl @' is not supported/);
  assertQasmError('qubit[2] q;\nctrl @ x q[0];', 2, 8, /takes 2 qubits \(1 control \+ 1\), but 1 was given/);
});

test('inv @ and pow @ use known inverses and reverse user gates', () => {
  const cases: [string, Operation[]][] = [
    ['inv @ s q[0];', [g('sdg', [0])]],
    ['inv @ sdg q[0];', [g('s', [0])]],
    ['inv @ t q[0];', [g('tdg', [0])]],
    ['inv @ tdg q[0];', [g('t', [0])]],
    ['inv @ sx q[0];', [g('sxdg', [0])]],
    ['inv @ sxdg q[0];', [g('sx', [0])]],
    ['inv @ rx(0.3) q[0];', [g('rx', [0], [-0.3])]],
    ['inv @ ry(0.3) q[0];', [g('ry', [0], [-0.3])]],
    ['inv @ rz(0.3) q[0];', [g('rz', [0], [-0.3])]],
    ['inv @ p(0.3) q[0];', [g('p', [0], [-0.3])]],
    ['inv @ u(0.1, 0.2, 0.3) q[0];', [g('u', [0], [-0.1, -0.3, -0.2])]],
    ['inv @ cu3(0.1, 0.2, 0.3) q[0], q[1];', [g('cu', [0, 1], [-0.1, -0.3, -0.2, -0])]],
    ['inv @ rzz(0.4) q[0], q[1];', [g('rzz', [0, 1], [-0.4])]],
    ['inv @ h q[0];', [g('h', [0])]],
    ['inv @ cx q[0], q[1];', [g('cx', [0, 1])]],
    ['inv @ ccx q[0], q[1], q[2];', [g('ccx', [0, 1, 2])]],
    ['inv @ seq(0.5) q[0], q[1];', [g('sdg', [1]), g('cx', [0, 1]), g('rx', [0], [-0.5])]],
    ['ctrl @ inv @ s q[0], q[1];', [g('cp', [0, 1], [-PI / 2])]],
    ['pow(2) @ t q[0];', [g('t', [0]), g('t', [0])]],
    ['pow(-1) @ t q[0];', [g('tdg', [0])]],
  ];
  for (const [call, ops] of cases) {
    const src = `include "stdgates.inc"; gate seq(a) x, y { rx(a) x; cx x, y; s y; } qubit[3] q; ${call}`;
    assert.deepEqual(parseQasm(src).ops, ops, call);
  }
});

test('hardware qubits form one register named $ of size max index + 1', () => {
  const c = parseQasm('OPENQASM 3; bit[2] c; h $0; cx $0, $3; c[0] = measure $0; c[1] = measure $3;');
  assert.equal(c.numQubits, 4);
  assert.deepEqual(c.qregs, [reg('$', 4, 0)]);
  assert.deepEqual(c.ops, [g('h', [0]), g('cx', [0, 3]), m(0, 0), m(3, 1)]);
  assertQasmError('qubit[2] q;\nh $1;', 2, 3, /hardware qubit \$1 cannot be used.*declares qubit registers/);
  assertQasmError('h $1;\nqubit[2] q;', 2, 10, /already uses hardware qubits/);
});

test('comments, header variants and empty statements', () => {
  const src = `// leading comment
/* a block
   comment */ OPENQASM 3.0; /* inline */ include "stdgates.inc";
qubit[1] q; ; // trailing
x q[0]; /* x */ y q[0];`;
  assert.deepEqual(parseQasm(src).ops, [g('x', [0]), g('y', [0])]);
  assertQasmError('/* a\n b */ qubit q;\n  foo q;', 3, 3, /unknown gate 'foo'; known gates: .*cx.*Define it/);
});

test('errors carry the line and column of the offending token', () => {
  assertQasmError('qubit q;\nh q; #', 2, 6, /unexpected character '#'/);
  assertQasmError('qubit q;\nh q\nx q;', 3, 1, /expected ';' after the gate operands, found 'x'/);
  assertQasmError('OPENQASM 2.0;\nqreg q[2];\n  blah q[0];', 3, 3, /unknown gate 'blah'/);
  assertQasmError('qreg q[2];\ncx q[0];', 2, 1, /gate 'cx' takes 2 qubits, but 1 was given/);
  assertQasmError('qreg q[2];\nrx q[0];', 2, 1, /gate 'rx' takes 1 parameter, but 0 were given/);
  assertQasmError('qreg q[2];\nu3(1,2) q[0];', 2, 1, /takes 3 parameters, but 2 were given/);
  assertQasmError('qreg q[2];\nx q[5];', 2, 5, /qubit index 5 is out of range for register 'q' of size 2/);
  assertQasmError(
    'qreg q[2];\ncreg c[1];\nmeasure q[0] -> c[1];',
    3,
    19,
    /bit index 1 is out of range for register 'c'/,
  );
  assertQasmError('qreg q[2];\n cx q[1], q[1];', 2, 11, /qubit q\[1\] is used twice/);
  assertQasmError('qreg q[2];\nh r[0];', 2, 3, /undeclared qubit register 'r'.*declared qubit registers: q/);
  assertQasmError('qreg q[2];\ncreg c[2];\nmeasure q[0] -> d[0];', 3, 17, /undeclared bit register 'd'/);
  assertQasmError('qreg q[2];\ncreg c[2];\nh c[0];', 3, 3, /'c' is a bit register, but a qubit is needed/);
  assertQasmError(
    'qreg q[2];\ncreg q[2];',
    2,
    6,
    /'q' is already declared \(as a qubit register at line 1, column 6\)/,
  );
  assertQasmError('gate g a { x a; }\ngate g a { y a; }', 2, 6, /'g' is already declared/);
  assertQasmError('const float a = 1;\ninput float a;', 2, 13, /'a' is already declared/);
  assertQasmError('qubit[2] q;\nfor int i in [0:1] { h q[i]; }', 2, 1, /'for' loops are not supported/);
  assertQasmError('qubit[2] q;\nwhile (true) { }', 2, 1, /'while' loops are not supported/);
  assertQasmError('qubit[2] q;\n\ndef f(qubit a) { h a; }', 3, 1, /subroutines \('def'\) are not supported/);
  assertQasmError('qubit[2] q;\ndelay[100ns] q;', 2, 1, /'delay' is not supported/);
  assertQasmError(
    'OPENQASM 2.0;\nqreg q[1]; creg c[1];\nif (c==1) x q[0];',
    3,
    1,
    /classically controlled operations \('if'\) are not supported/,
  );
  assertQasmError('qubit q;\n  output bit b;', 2, 3, /'output' is not supported/);
  assertQasmError('opaque magic a;\nqubit q;\nmagic q;', 3, 1, /declared opaque/);
  assertQasmError('include "mylib.inc";', 1, 9, /only "qelib1.inc" and "stdgates.inc"/);
  assertQasmError('OPENQASM 4.0;', 1, 10, /unsupported OpenQASM version/);
  assertQasmError('qubit q;\n/* never closed', 2, 1, /unterminated block comment/);
  assertQasmError('qubit q;\nx q;\nOPENQASM 3;', 3, 1, /must be the first statement/);
  assertQasmError('qubit q;\nfloat x;', 2, 8, /needs an initial value/);
  assertQasmError('qubit q;\nbit c;\nc = 1;', 3, 5, /only a measurement can be assigned/);
  assertQasmError('qubit q;\nbit c;\nmeasure q;', 3, 10, /expected '->'.*needs a destination/);
  assertQasmError('qreg q[0];', 1, 8, /register size must be an integer of at least 1, got 0/);
  assertQasmError('gate g(a) x {\n  rz(b) x;\n}', 2, 6, /unknown name 'b'.*parameters of gate 'g' are a/);
  assertQasmError('gate g x, y {\n  cx x, x;\n}', 2, 9, /used twice in one gate call/);
  assertQasmError('gate g x {\n  measure x;\n}', 2, 3, /cannot appear in the body of gate 'g'/);
  assertQasmError('gate g x {\n  g x;\n}', 2, 3, /cannot call itself/);
  assertQasmError('gate g x {\n  h x;\n', 3, 1, /unterminated body of gate 'g'/);
  assertQasmError('gate g x, x { }', 1, 11, /qubit argument 'x' is listed twice/);
  assertQasmError('qubit q;\nrx(0.1, 0.2) q;', 2, 1, /takes 1 parameter, but 2 were given/);
});

test('a QFT written for qelib1 parses into the textbook gate sequence', () => {
  const n = 4;
  const lines = [
    '// quantum Fourier transform on 4 qubits',
    'OPENQASM 2.0;',
    'include "qelib1.inc";',
    `qreg q[${n}];`,
    `creg c[${n}];`,
    'x q[0];',
    'x q[2];',
    'barrier q;',
  ];
  for (let j = 0; j < n; j++) {
    lines.push(`h q[${j}];`);
    for (let k = j + 1; k < n; k++) lines.push(`cu1(pi/${2 ** (k - j)}) q[${k}],q[${j}];`);
  }
  for (let j = 0; j < n / 2; j++) lines.push(`swap q[${j}],q[${n - 1 - j}];`);
  lines.push('measure q -> c;');
  const expected: Operation[] = [g('x', [0]), g('x', [2]), { kind: 'barrier', qubits: [0, 1, 2, 3] }];
  for (let j = 0; j < n; j++) {
    expected.push(g('h', [j]));
    for (let k = j + 1; k < n; k++) expected.push(g('cp', [k, j], [PI / 2 ** (k - j)]));
  }
  expected.push(g('swap', [0, 3]), g('swap', [1, 2]));
  for (let j = 0; j < n; j++) expected.push(m(j, j));
  const c = parseQasm(lines.join('\n'));
  assert.deepEqual(c, { numQubits: n, numClbits: n, qregs: [reg('q', n, 0)], cregs: [reg('c', n, 0)], ops: expected });
});

test('an OpenQASM 3 VQE ansatz with input parameters binds every angle', () => {
  const src = `OPENQASM 3.0;
include "stdgates.inc";
// hardware-efficient ansatz, 2 layers on 3 qubits
input float[64] t0; input float[64] t1; input float[64] t2;
input float[64] t3; input float[64] t4; input float[64] t5;
gate layer(a, b, c) x, y, z {
  ry(a) x; ry(b) y; ry(c) z;
  cx x, y; cx y, z;
}
qubit[3] q;
bit[3] meas;
layer(t0, t1, t2) q[0], q[1], q[2];
layer(t3, t4, t5) q[0], q[1], q[2];
rz(-t0 / 2) q[2];
meas = measure q;`;
  const names = ['t0', 't1', 't2', 't3', 't4', 't5'];
  assert.deepEqual(qasmInputs(src), names);
  const values = [0.11, -0.22, 0.33, 1.5, -2.5, 3.25];
  const params = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
  const c = parseQasm(src, params);
  const expected: Operation[] = [];
  for (const layer of [0, 1]) {
    for (let q = 0; q < 3; q++) expected.push(g('ry', [q], [values[layer * 3 + q]!]));
    expected.push(g('cx', [0, 1]), g('cx', [1, 2]));
  }
  expected.push(g('rz', [2], [-values[0]! / 2]), m(0, 0), m(1, 1), m(2, 2));
  assert.deepEqual(c.ops, expected);
  assert.deepEqual(c.cregs, [reg('meas', 3, 0)]);
});

function syntheticProgram(gateCount: number): string {
  const lines = [
    'OPENQASM 2.0;',
    'include "qelib1.inc";',
    'qreg q[20];',
    'creg c[20];',
    'gate layer(t) a, b { rz(t) a; cx a, b; }',
  ];
  for (let i = 0; i < gateCount; i++) {
    const a = i % 20;
    const b = (i * 7 + 3) % 20 === a ? (a + 1) % 20 : (i * 7 + 3) % 20;
    lines.push(
      i % 3 === 0
        ? `cx q[${a}],q[${b}];`
        : i % 3 === 1
          ? `u3(${i * 1e-4},pi/2,-pi/4) q[${a}];`
          : `layer(${i}*0.001) q[${a}],q[${b}];`,
    );
  }
  lines.push('measure q -> c;');
  return lines.join('\n');
}

function bestParseMs(source: string, runs: number): { ms: number; ops: number } {
  let ms = Infinity;
  let ops = 0;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    ops = parseQasm(source).ops.length;
    ms = Math.min(ms, performance.now() - start);
  }
  return { ms, ops };
}

test('parsing a 10,000-gate program is fast and linear in its size', () => {
  const small = bestParseMs(syntheticProgram(10_000), 7);
  const large = bestParseMs(syntheticProgram(40_000), 3);
  // every third gate is a two-gate `layer`; then 20 measurements
  assert.equal(small.ops, 10_000 + 3_333 + 20);
  // About 10-20 ms on an idle machine; the bound leaves room for a loaded two-core CI box.
  assert.ok(small.ms < 250, `best parse of 10,000 gates took ${small.ms.toFixed(1)} ms`);
  // Four times the gates must cost about four times as long, not more (no super-linear paths).
  assert.ok(
    large.ms < small.ms * 8,
    `40,000 gates took ${large.ms.toFixed(1)} ms vs ${small.ms.toFixed(1)} ms for 10,000`,
  );
});
