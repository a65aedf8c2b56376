/** Service options of circuit tasks (IBM primitive options, Braket device parameters) and the execution-mode config keys, checked before any submission. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIbmPrimitiveOptions } from '../../backends/quantum/ibm/primitive-options.ts';
import { checkIbmQuantumConfig } from '../../backends/quantum/ibm/config.ts';
import { circuit } from '../../orchestrator/api/circuit.ts';

const base = {
  name: 'ibm',
  kind: 'ibm-quantum',
  instanceCrn: 'crn:v1:bluemix:public:quantum-computing:us-east:a/x:y::',
  apiKeySecret: 'ibm-key',
};

const BELL =
  'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n';

test('Sampler options as the Runtime API takes them pass unchanged', () => {
  const o = {
    dynamical_decoupling: { enable: true, sequence_type: 'XpXm', scheduling_method: 'asap' },
    twirling: { enable_gates: true, enable_measure: false, num_randomizations: 32, shots_per_randomization: 'auto' },
    execution: { init_qubits: true, rep_delay: 0.00025 },
    max_execution_time: 300,
  };
  assert.equal(checkIbmPrimitiveOptions(o, 'sampler', 'x'), o);
});

test('each bad Sampler option is a TypeError naming its path and what is allowed', () => {
  const cases: [unknown, RegExp][] = [
    [
      { resilience_level: 1 },
      /ibmOptions\.resilience_level is an Estimator option: Sampler V2 has no resilience settings/,
    ],
    [{ resilience: { measure_mitigation: true } }, /ibmOptions\.resilience is an Estimator option/],
    [
      { dynamical_decoupling: { sequence_type: 'XYZ' } },
      /ibmOptions\.dynamical_decoupling\.sequence_type must be "XX" \| "XpXm" \| "XY4" \(got "XYZ"\)/,
    ],
    [{ dynamical_decoupling: { enable: 'yes' } }, /dynamical_decoupling\.enable must be true or false/],
    [
      { twirling: { num_randomizations: 0 } },
      /twirling\.num_randomizations must be 'auto' or an integer >= 1 \(got 0\)/,
    ],
    [{ twirling: { shots_per_randomization: 2.5 } }, /twirling\.shots_per_randomization must be 'auto'/],
    [
      { twirling: { enable_gate: true } },
      /twirling\.enable_gate is not an option; allowed: enable_gates, enable_measure/,
    ],
    [
      { optimization_level: 1 },
      /ibmOptions\.optimization_level is not a Sampler V2 option; allowed: dynamical_decoupling/,
    ],
    [{ execution: { rep_delay: -1 } }, /execution\.rep_delay must be a number > 0/],
    [{ max_execution_time: 0 }, /max_execution_time must be an integer number of seconds >= 1/],
    [[], /ibmOptions must be an object/],
  ];
  for (const [o, re] of cases)
    assert.throws(
      () => checkIbmPrimitiveOptions(o, 'sampler', 'circuit().remote()'),
      (e: unknown) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.match(e.message, /^circuit\(\)\.remote\(\): /);
        assert.match(e.message, re);
        return true;
      },
    );
});

test('Estimator options take resilience_level 0 to 2 and measurement mitigation', () => {
  for (const level of [0, 1, 2]) checkIbmPrimitiveOptions({ resilience_level: level }, 'estimator', 'e');
  checkIbmPrimitiveOptions({ resilience: { measure_mitigation: true } }, 'estimator', 'e');
  assert.throws(
    () => checkIbmPrimitiveOptions({ resilience_level: 3 }, 'estimator', 'e'),
    /resilience_level must be 0 \| 1 \| 2 \(got 3\)/,
  );
});

test('circuit({ ibmOptions }).remote() fails at once naming the option, before anything is submitted', () => {
  assert.throws(
    () => circuit({ ibmOptions: { resilience_level: 1 } as never }).remote(BELL),
    (e: unknown) => e instanceof TypeError && /circuit\(\)\.remote\(\): ibmOptions\.resilience_level/.test(e.message),
  );
  assert.throws(
    () => circuit({ ibmOptions: { twirling: { strategy: 'some' } } as never }).remote(BELL),
    /ibmOptions\.twirling\.strategy must be "active" \| "active-circuit" \| "active-accum" \| "all"/,
  );
});

test('mode, session lifetimes and backend-level ibmOptions are validated with the field named', () => {
  const ok = {
    ...base,
    mode: 'session',
    sessionMaxTtlS: 3600,
    sessionIdleS: 60,
    ibmOptions: { twirling: { enable_gates: true } },
  };
  assert.deepEqual(checkIbmQuantumConfig(ok), ok);
  for (const mode of ['job', 'batch', 'session']) checkIbmQuantumConfig({ ...base, mode });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, mode: 'dedicated' }, /backend ibm: mode must be 'job', 'batch' or 'session' .*\(got "dedicated"\)/],
    [{ ...base, sessionIdleS: 0 }, /sessionIdleS must be an integer number of seconds >= 1 \(got 0\)/],
    [{ ...base, sessionMaxTtlS: 1.5 }, /sessionMaxTtlS must be an integer number of seconds >= 1/],
    [
      { ...base, ibmOptions: { resilience_level: 2 } },
      /backend ibm: ibmOptions\.resilience_level is an Estimator option/,
    ],
  ];
  for (const [c, re] of cases)
    assert.throws(
      () => checkIbmQuantumConfig(c),
      (e: unknown) => e instanceof TypeError && re.test(e.message),
    );
});

test('circuit({ braketOptions }).remote() checks the Braket device parameters by name', () => {
  assert.throws(
    () => circuit({ braketOptions: { errorMitigation: 'zne' } as never }).remote(BELL),
    /circuit\(\)\.remote\(\): braketOptions\.errorMitigation must be 'debias' \(got "zne"\)/,
  );
  assert.throws(
    () => circuit({ braketOptions: { qubitCount: 3 } as never }).remote(BELL),
    /braketOptions\.qubitCount is not a Braket device parameter Orrery sends; allowed: disableQubitRewiring, errorMitigation/,
  );
  assert.throws(
    () => circuit({ braketOptions: { disableQubitRewiring: 'yes' } as never }).remote(BELL),
    /braketOptions\.disableQubitRewiring must be true or false/,
  );
});
