/**
 * Batching on the braket backend against the AWS emulator (test/emulators/aws), driven by the real
 * @aws-sdk/client-braket and client-s3: circuits for a device whose capabilities list
 * `braket.ir.openqasm.program_set` go out as one program-set quantum task (split by the device's
 * maximumExecutables and maximumTotalShots), a sweep of one parametrised program as one program
 * with input sets, and one task per circuit on a device without program sets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateQuantumTaskCommand } from '@aws-sdk/client-braket';
import * as orrery from 'orrery-compute';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { CircuitBatcher, type CircuitOutcome } from '../../backends/quantum/batching/circuit-batcher.ts';
import { checkBraketConfig, runBraketBatch, type BraketConfig } from '../../backends/quantum/braket/index.ts';
import { openAws } from '../../backends/quantum/braket/aws-access.ts';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws/server.ts';
import { until } from './helpers.ts';

const SV1 = 'arn:aws:braket:::device/quantum-simulator/amazon/sv1';
const FORTE = 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1';
const SMALL = 'arn:aws:braket:us-east-1::device/qpu/ionq/Small-Sets';
const BUCKET = 'amazon-braket-orrery-sets';

const BELL = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n';
/** q0 flipped: always '01' (clbit 0 rightmost). */
const FLIP = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[0];\nc = measure q;\n';
const ROTATION =
  'OPENQASM 3;\ninclude "stdgates.inc";\ninput float theta;\nqubit[1] q;\nbit[1] c;\nry(theta) q[0];\nc[0] = measure q[0];\n';

let emu: AwsEmulator;
let config: BraketConfig;
const savedEnv = { ...process.env };

before(async () => {
  emu = await startAwsEmulator({ buckets: [BUCKET] });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = emu.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emu.credentials.secretAccessKey;
  emu.braket.addDevice({
    arn: SMALL,
    name: 'Small Sets',
    provider: 'IonQ',
    type: 'QPU',
    status: 'ONLINE',
    qubitCount: 8,
    shotsRange: [1, 5000],
    actions: ['braket.ir.openqasm.program', 'braket.ir.openqasm.program_set'],
    programSet: { maximumExecutables: 2, maximumTotalShots: 1000 },
  });
  config = checkBraketConfig({
    name: 'braket',
    kind: 'braket',
    region: 'us-east-1',
    deviceArn: FORTE,
    s3Bucket: BUCKET,
    s3Prefix: 'orrery/sets',
    endpoint: emu.endpoint,
    pollIntervalMs: 10,
  });
});

after(async () => {
  await emu.close();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

function circuitRun(
  source: string,
  opts: { shots?: number; device?: string; params?: Record<string, number>; signal?: AbortSignal } = {},
) {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const run: CircuitRun = {
    circuit: parseQasm(source, opts.params),
    source,
    shots: opts.shots ?? 100,
    device: opts.device,
    ...(opts.params && { params: opts.params }),
    signal: opts.signal ?? new AbortController().signal,
    report: (info) => reports.push({ ...info }),
    log: (line) => logs.push(line),
  };
  return { run, reports, logs };
}

const creates = () => emu.braket.calls.filter((c) => c.startsWith('CreateQuantumTask')).length;
const last = (reports: TaskInfo[]) => Object.assign({}, ...reports) as TaskInfo;

function assertBell(outcome: CircuitOutcome, shots: number): void {
  assert.ok(!(outcome instanceof Error) && !Array.isArray(outcome), String(outcome));
  const r = outcome as CircuitResult;
  assert.deepEqual(Object.keys(r.counts).sort(), ['00', '11']);
  assert.equal((r.counts['00'] ?? 0) + (r.counts['11'] ?? 0), shots);
}

test('circuits for a device with program sets go out as ONE program-set task; each keeps its result, index and cost share', async () => {
  const before = creates();
  const runs = [circuitRun(BELL), circuitRun(FLIP), circuitRun(BELL)];
  const outcomes = await runBraketBatch(
    config,
    runs.map((r) => r.run),
  );
  assert.equal(creates() - before, 1, 'one CreateQuantumTask');
  const task = emu.braket.tasks().at(-1)!;
  assert.equal(task.programSet?.executables.length, 3);
  assert.equal(task.shots, 300, 'the set asks for the shots of all its executables');
  assert.equal((task.action.braketSchemaHeader as { name: string }).name, 'braket.ir.openqasm.program_set');
  assertBell(outcomes[0]!, 100);
  assert.deepEqual((outcomes[1] as CircuitResult).counts, { '01': 100 });
  assertBell(outcomes[2]!, 100);
  const infos = runs.map((r) => last(r.reports));
  assert.deepEqual(
    infos.map((i) => [i.jobId, i.batchIndex, i.batchSize]),
    [0, 1, 2].map((k) => [task.arn, k, 3]),
  );
  // IonQ Forte: $0.30 per task + $0.08 per shot over 300 shots, shared by three circuits.
  const job = infos[0]!.costOfJobUsd as number;
  assert.ok(job > 0);
  for (const i of infos) assert.equal(i.costUsd, Math.round((job / 3) * 1e6) / 1e6);
  assert.match(runs[1]!.logs.join('\n'), /program set .* completed; executable 1/);
});

test('a device that lists no program sets gets one quantum task per circuit', async () => {
  const before = emu.braket.tasks().length;
  const runs = [circuitRun(BELL, { device: SV1 }), circuitRun(FLIP, { device: SV1 })];
  const outcomes = await runBraketBatch(
    config,
    runs.map((r) => r.run),
  );
  const tasks = emu.braket.tasks().slice(before);
  assert.equal(tasks.length, 2);
  assert.ok(tasks.every((t) => !t.programSet));
  assertBell(outcomes[0]!, 100);
  assert.deepEqual((outcomes[1] as CircuitResult).counts, { '01': 100 });
  assert.match(runs[0]!.logs.join('\n'), /lists no program sets/);
  // The service refuses a program set on such a device with its own ValidationException.
  const aws = await openAws(config);
  try {
    await assert.rejects(
      aws.braket.send(
        new CreateQuantumTaskCommand({
          deviceArn: SV1,
          shots: 200,
          outputS3Bucket: BUCKET,
          outputS3KeyPrefix: 'refused',
          action: JSON.stringify({
            braketSchemaHeader: { name: 'braket.ir.openqasm.program_set', version: '1' },
            programs: [{ source: BELL }, { source: FLIP }],
          }),
        }),
      ),
      (err: Error) => err.name === 'ValidationException' && /does not support action/.test(err.message),
    );
  } finally {
    aws.close();
  }
});

test("a batch over the device's limits is split: at most maximumExecutables and maximumTotalShots per set", async () => {
  const before = emu.braket.tasks().length;
  const runs = Array.from({ length: 5 }, () => circuitRun(BELL, { device: SMALL, shots: 200 }));
  const outcomes = await runBraketBatch(
    config,
    runs.map((r) => r.run),
  );
  const sets = emu.braket.tasks().slice(before);
  assert.deepEqual(
    sets.map((t) => t.programSet?.executables.length ?? 1),
    [2, 2, 1],
  );
  for (const o of outcomes) assertBell(o, 200);
  // 2 x 600 shots would exceed the 1000 total shots: each circuit goes alone.
  const wide = await runBraketBatch(config, [
    circuitRun(FLIP, { device: SMALL, shots: 600 }).run,
    circuitRun(FLIP, { device: SMALL, shots: 600 }).run,
  ]);
  assert.ok(
    emu.braket
      .tasks()
      .slice(-2)
      .every((t) => !t.programSet),
  );
  for (const o of wide) assert.deepEqual((o as CircuitResult).counts, { '01': 600 });
});

test('a sweep of one parametrised program is ONE program with input sets, bound by the service', async () => {
  const before = creates();
  const angles = [0, Math.PI, 0, Math.PI];
  const runs = angles.map((theta) => circuitRun(ROTATION, { params: { theta } }));
  const outcomes = await runBraketBatch(
    config,
    runs.map((r) => r.run),
  );
  assert.equal(creates() - before, 1);
  const task = emu.braket.tasks().at(-1)!;
  const programs = task.action.programs as { source: string; inputs?: Record<string, number[]> }[];
  assert.equal(programs.length, 1, 'one program');
  assert.deepEqual(programs[0]!.inputs, { theta: angles });
  assert.match(programs[0]!.source, /input float theta;/);
  assert.deepEqual(
    outcomes.map((o) => (o as CircuitResult).counts),
    [{ '0': 100 }, { '1': 100 }, { '0': 100 }, { '1': 100 }],
  );
  assert.deepEqual(
    runs.map((r) => last(r.reports).batchIndex),
    [0, 1, 2, 3],
  );
});

test('cancel: before submission a circuit leaves the batch; after, its result is dropped; all cancelled cancels the task', async () => {
  emu.braket.setDelays({ queuedMs: 400 });
  try {
    const batcher = new CircuitBatcher((runs) => runBraketBatch(config, runs), 100, 2);
    const early = new AbortController();
    const late = new AbortController();
    const a = circuitRun(BELL);
    const b = circuitRun(FLIP, { signal: early.signal });
    const c = circuitRun(FLIP, { signal: late.signal });
    const before = emu.braket.tasks().length;
    const pending = [a, b, c].map((r) => batcher.submit(r.run));
    early.abort(new Error('cancelled before submission'));
    await assert.rejects(pending[1]!, /cancelled before submission/);
    const set = await until('the set to be submitted', () => emu.braket.tasks()[before]);
    assert.equal(set.programSet?.executables.length, 2, 'the early-cancelled circuit left the batch');
    late.abort(new Error('cancelled after submission'));
    await assert.rejects(pending[2]!, /cancelled after submission/);
    assertBell(await pending[0]!, 100);
    assert.equal(set.status, 'COMPLETED', 'the set ran on for the other circuit');

    const all = [new AbortController(), new AbortController()];
    const both = all.map((ctl) => batcher.submit(circuitRun(BELL, { signal: ctl.signal }).run));
    const second = await until('the second set', () => emu.braket.tasks()[before + 1]);
    for (const ctl of all) ctl.abort(new Error('cancelled'));
    for (const p of both) await assert.rejects(p, /cancelled/);
    await until('the set to be cancelled', () => emu.braket.calls.includes(`CancelQuantumTask ${second.arn}`));
    await until('CANCELLED', () => second.status === 'CANCELLED');
  } finally {
    emu.braket.setDelays({ queuedMs: 30 });
  }
});

test("a failed program-set task fails every circuit in it with Braket's reason", async () => {
  emu.braket.failNextTask('Device calibration drifted during execution');
  const outcomes = await runBraketBatch(config, [circuitRun(BELL).run, circuitRun(FLIP).run]);
  for (const o of outcomes) {
    assert.ok(o instanceof BackendError, String(o));
    assert.match(o.message, /quantum task .* failed on .*Forte-1: Device calibration drifted/);
  }
});

test('a resumed circuit follows its set by `<arn>#<index>` and submits nothing', async () => {
  const [, flip] = await runBraketBatch(config, [circuitRun(BELL).run, circuitRun(FLIP).run]);
  const arn = (flip as CircuitResult).jobId!;
  const before = creates();
  const again = circuitRun(FLIP);
  const [followed] = await runBraketBatch(config, [{ ...again.run, resumeJobId: `${arn}#1` }]);
  assert.equal(creates(), before, 'no new quantum task');
  assert.deepEqual((followed as CircuitResult).counts, { '01': 100 });
  assert.equal(last(again.reports).resumed, true);
  assert.equal(last(again.reports).batchIndex, 1);
});

test('end to end: concurrent circuit().remote() calls and a map() sweep each become one program-set task', async () => {
  const { circuit, get, init, shutdown, state } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 300 }] });
  try {
    const bell = circuit({ backend: 'braket', shots: 50 });
    await get(bell.remote(BELL));
    const before = creates();
    const results = await get([bell.remote(BELL), bell.remote(FLIP), bell.remote(BELL), bell.remote(FLIP)]);
    assert.ok(creates() - before <= 2, `4 circuits went out as ${creates() - before} quantum tasks`);
    assertBell(results[0]!, 50);
    assert.deepEqual(results[1]!.counts, { '01': 50 });
    const rows = await state.listTasks({ filters: [['name', '=', 'circuit']], limit: 1000 });
    const arns = new Set(results.map((r) => r.jobId));
    const keys = rows
      .map((r) => r.info as Record<string, unknown>)
      .filter((i) => arns.has(i.jobId as string))
      .map((i) => `${i.jobId}#${i.batchIndex}`);
    assert.equal(new Set(keys).size, 4, 'each task has its own State API row and executable');

    const sweepBefore = creates();
    const sweep = await get(bell.map(ROTATION, [{ theta: 0 }, { theta: Math.PI }, { theta: Math.PI }]));
    assert.equal(creates() - sweepBefore, 1, 'the sweep went out as one quantum task');
    const programs = emu.braket.tasks().at(-1)!.action.programs as { inputs?: Record<string, number[]> }[];
    assert.equal(programs.length, 1);
    assert.deepEqual(programs[0]!.inputs, { theta: [0, Math.PI, Math.PI] });
    assert.deepEqual(
      sweep.map((r) => r.counts),
      [{ '0': 50 }, { '1': 50 }, { '1': 50 }],
    );
  } finally {
    await shutdown();
  }
});

test('Estimator tasks on a batching braket backend: their basis circuits share one program set, values from its counts', async () => {
  const { estimator, get, init, shutdown } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 300 }] });
  try {
    const est = estimator({ backend: 'braket', shots: 400 });
    await get(est.remote(FLIP, ['ZI']));
    const before = creates();
    // Bell: ZZ and XX need two bases; flip: IZ and XI commute qubit-wise, one basis. Three programs, one task.
    const [bell, flip] = await get([est.remote(BELL, ['ZZ', 'XX']), est.remote(FLIP, ['IZ', 'XI'])]);
    assert.equal(creates() - before, 1, 'the bases of both tasks went out as one program-set task');
    const set = emu.braket.tasks().at(-1)!;
    assert.equal((set.action.programs as unknown[]).length, 3);
    assert.deepEqual(bell!.values, [1, 1], 'a Bell pair: <ZZ> = <XX> = 1');
    assert.equal(flip!.values[0], -1, 'qubit 0 flipped: <IZ> = -1');
    assert.ok(Math.abs(flip!.values[1]!) < 0.25, `<XI> of |01> is 0 up to shot noise (${flip!.values[1]})`);
    assert.deepEqual(new Set(bell!.jobIds), new Set([set.arn]));
  } finally {
    await shutdown();
  }
});

test('end to end with batchWindowMs 0: circuits go one task each, and a map() sweep is still one program with input sets', async () => {
  const { circuit, get, init, shutdown } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 0 }] });
  try {
    const bell = circuit({ backend: 'braket', shots: 40 });
    const before = emu.braket.tasks().length;
    await get([bell.remote(BELL), bell.remote(FLIP)]);
    const singles = emu.braket.tasks().slice(before);
    assert.equal(singles.length, 2);
    assert.ok(singles.every((t) => !t.programSet));
    const sweep = await get(bell.map(ROTATION, [{ theta: Math.PI }, { theta: 0 }]));
    const task = emu.braket.tasks().at(-1)!;
    assert.equal(emu.braket.tasks().length - before, 3, 'the sweep was one quantum task');
    assert.deepEqual((task.action.programs as { inputs?: unknown }[])[0]!.inputs, { theta: [Math.PI, 0] });
    assert.deepEqual(
      sweep.map((r) => r.counts),
      [{ '1': 40 }, { '0': 40 }],
    );
    // On a device without program sets the sweep is one task per binding.
    const onSv1 = await get(
      circuit({ backend: 'braket', shots: 40, device: SV1 }).map(ROTATION, [{ theta: 0 }, { theta: Math.PI }]),
    );
    assert.equal(emu.braket.tasks().length - before, 5);
    assert.deepEqual(
      onSv1.map((r) => r.counts),
      [{ '0': 40 }, { '1': 40 }],
    );
  } finally {
    await shutdown();
  }
});

test("a failed executable fails only its own circuit, with Braket's failureReason", async () => {
  emu.braket.failNextExecutable(1, 'Compilation failed: gate not supported by the device');
  const outcomes = await runBraketBatch(config, [circuitRun(BELL).run, circuitRun(FLIP).run, circuitRun(BELL).run]);
  assertBell(outcomes[0]!, 100);
  assert.ok(outcomes[1] instanceof BackendError, String(outcomes[1]));
  assert.match(outcomes[1].message, /executable 1 failed on .*Forte-1: Compilation failed: gate not supported/);
  assertBell(outcomes[2]!, 100);
});

test("the emulated service refuses a program set over the device's limits with a ValidationException", async () => {
  const aws = await openAws(config);
  const create = (programs: object[], shots: number) =>
    aws.braket.send(
      new CreateQuantumTaskCommand({
        deviceArn: SMALL,
        shots,
        outputS3Bucket: BUCKET,
        outputS3KeyPrefix: 'refused',
        action: JSON.stringify({
          braketSchemaHeader: { name: 'braket.ir.openqasm.program_set', version: '1' },
          programs,
        }),
      }),
    );
  try {
    const refused = (pattern: RegExp) => (err: Error) =>
      err.name === 'ValidationException' && pattern.test(err.message);
    await assert.rejects(
      create([{ source: BELL }, { source: FLIP }, { source: BELL }], 300),
      refused(/3 executables; .* at most 2/),
    );
    await assert.rejects(create([{ source: ROTATION, inputs: { theta: [0, 1] } }], 1200), refused(/exceed the 1000/));
    await assert.rejects(create([{ source: BELL }, { source: FLIP }], 301), refused(/divisible by its 2 executables/));
    await assert.rejects(
      create([{ source: ROTATION, inputs: { theta: [0, 1], phi: [1] } }], 200),
      refused(/same length/),
    );
  } finally {
    aws.close();
  }
});
