/** How circuit runs are cut into Braket program sets and turned into their `programs` (program-set-builder.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgramSet, chunkForProgramSets } from '../../backends/quantum/braket/program-set-builder.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import type { CircuitRun } from '../../backends/quantum/run-types.ts';

const ROTATION = 'OPENQASM 3.0;\ninput float a;\nqubit[1] q;\nbit[1] c;\nrx(a) q[0];\nc[0] = measure q[0];\n';
const BELL2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n';

function run(source: string, shots = 100, params?: Record<string, number>, braketOptions?: Record<string, unknown>) {
  const r: CircuitRun = {
    circuit: parseQasm(source, params),
    source,
    shots,
    device: undefined,
    ...(params && { params }),
    ...(braketOptions && { braketOptions }),
    signal: new AbortController().signal,
    report: () => {},
    log: () => {},
  };
  return { run: r };
}

test('sets hold one shot count and one set of device parameters, within maximumExecutables and maximumTotalShots', () => {
  const limits = { maximumExecutables: 3, maximumTotalShots: 1000, minimumTotalShots: undefined };
  const members = [
    run(BELL2, 100),
    run(BELL2, 200),
    run(BELL2, 100),
    run(BELL2, 100),
    run(BELL2, 100),
    run(BELL2, 100, undefined, { errorMitigation: 'debias' }),
    run(BELL2, 400),
    run(BELL2, 400),
    run(BELL2, 400),
  ];
  const chunks = chunkForProgramSets(members, limits);
  assert.deepEqual(
    chunks.map((c) => c.map((m) => `${m.run.shots}${m.run.braketOptions ? '+' : ''}`)),
    [['100+'], ['100', '100', '100'], ['100'], ['200'], ['400', '400'], ['400']],
  );
});

test('bindings of one OpenQASM 3 program become one program with input sets; other runs are programs of their own', () => {
  const runs = [
    run(ROTATION, 100, { a: 0.5 }).run,
    run(BELL2).run,
    run(ROTATION, 100, { a: 1.5 }).run,
    run(ROTATION, 100, { a: 2.5 }).run,
  ];
  const { programs, indexOf } = buildProgramSet(runs);
  assert.equal(programs.length, 2);
  assert.equal(programs[0]!.source, ROTATION, 'the parametrised program is sent as written, its input unbound');
  assert.deepEqual({ ...programs[0]!.inputs }, { a: [0.5, 1.5, 2.5] });
  assert.equal(Object.getPrototypeOf(programs[0]!.inputs), null, 'input names from users key no plain object');
  assert.match(programs[1]!.source, /^OPENQASM 3/, 'OpenQASM 2 is sent as OpenQASM 3, bound');
  assert.equal(programs[1]!.inputs, undefined);
  assert.deepEqual(indexOf, [0, 3, 1, 2], 'executables count program by program, input set by input set');
});
