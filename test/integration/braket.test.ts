/**
 * The braket backend against the AWS emulator (test/emulators/aws): the real @aws-sdk/client-braket
 * and @aws-sdk/client-s3, SigV4-signed with keys given through the environment, results read
 * from the emulated S3 bucket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { BackendError } from '../../orchestrator/core/errors.ts';
import type { Circuit } from '../../backends/quantum/circuit.ts';
import type { CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import { simulate } from '../../backends/quantum/simulator/index.ts';
import {
  checkBraketConfig,
  describeBraket,
  runOnBraket,
  type BraketConfig,
} from '../../backends/quantum/braket/index.ts';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws/server.ts';

const SV1 = 'arn:aws:braket:::device/quantum-simulator/amazon/sv1';
const FORTE = 'arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1';
const BUCKET = 'amazon-braket-orrery-test';

const BELL = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n';
const GHZ =
  'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nh q[0];\ncx q[0],q[1];\ncx q[1],q[2];\nmeasure q -> c;\n';
const ROTATION =
  'OPENQASM 3;\ninclude "stdgates.inc";\ninput float theta;\nqubit[1] q;\nbit[1] c;\nry(theta) q[0];\nc[0] = measure q[0];\n';
/** Two bit registers, qubit 1 never measured, measurements out of register order. */
const PARTIAL =
  'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg a[1];\ncreg b[2];\nx q[0];\nx q[2];\nmeasure q[2] -> a[0];\nmeasure q[0] -> b[1];\n';

let emu: AwsEmulator;
let config: BraketConfig;
const savedEnv = { ...process.env };

function useKeys(keys: { accessKeyId: string; secretAccessKey: string }): void {
  process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
}

before(async () => {
  emu = await startAwsEmulator({ buckets: [BUCKET] });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // Nothing on this machine may lend other credentials to the SDK's default chain.
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  useKeys(emu.credentials);
  config = checkBraketConfig({
    name: 'braket',
    kind: 'braket',
    region: 'us-east-1',
    deviceArn: SV1,
    s3Bucket: BUCKET,
    s3Prefix: 'orrery/tests',
    endpoint: emu.endpoint,
    pollIntervalMs: 10,
  });
});

after(async () => {
  await emu.close();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

interface TestRun extends CircuitRun {
  readonly reports: TaskInfo[];
  readonly logs: string[];
}

function makeRun(
  source: string,
  opts: {
    params?: Record<string, number>;
    shots?: number;
    device?: string;
    signal?: AbortSignal;
    circuit?: Circuit;
  } = {},
): TestRun {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  return {
    circuit: opts.circuit ?? parseQasm(source, opts.params),
    source,
    shots: opts.shots ?? 1000,
    device: opts.device,
    signal: opts.signal ?? new AbortController().signal,
    report: (info) => reports.push({ ...info }),
    log: (line) => logs.push(line),
    reports,
    logs,
  };
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('circuits run on Braket', () => {
  test("Bell pair: only 00 and 11, about half each; results read from the task's S3 directory", async () => {
    const run = makeRun(BELL, { shots: 1000 });
    const r = await runOnBraket(config, run);
    assert.equal(total(r.counts), 1000);
    assert.deepEqual(Object.keys(r.counts).sort(), ['00', '11']);
    assert.ok(Math.abs(r.counts['00']! - 500) < 100, JSON.stringify(r.counts));
    assert.equal(r.backend, 'braket');
    assert.equal(r.device, SV1);
    assert.equal(r.shots, 1000);
    assert.ok(r.durationMs > 0);
    const task = emu.braket.task(r.jobId!);
    assert.ok(task, 'jobId is the emulated task ARN');
    assert.equal(task.status, 'COMPLETED');
    assert.match(task.outputS3Directory, /^orrery\/tests\/[0-9a-f-]{36}$/);
    const key = `${task.outputS3Directory}/results.json`;
    assert.ok(emu.s3.getObject(BUCKET, key), 'results.json is in the bucket');
    assert.ok(
      emu.requests.some(
        (q) => q.service === 's3' && q.method === 'GET' && q.path.startsWith(`/${BUCKET}/${key}`) && q.status === 200,
      ),
      'the runner fetched results.json through S3',
    );
    const first = run.reports[0]!;
    assert.equal(first.jobId, r.jobId);
    assert.equal(first.device, SV1);
    assert.equal(first.costUsd, 0.00375, 'SV1 estimate: the 3 s minimum at $0.075/min');
    assert.ok(run.logs.some((l) => l.includes(`submitted quantum task ${r.jobId}`)));
  });

  test('GHZ on three qubits: only 000 and 111', async () => {
    const r = await runOnBraket(config, makeRun(GHZ, { shots: 600 }));
    assert.equal(total(r.counts), 600);
    assert.deepEqual(Object.keys(r.counts).sort(), ['000', '111']);
  });

  test('a parameterised circuit: ry(theta) gives P(1) = sin^2(theta/2)', async () => {
    const quarter = await runOnBraket(config, makeRun(ROTATION, { params: { theta: Math.PI / 3 }, shots: 4000 }));
    assert.equal(total(quarter.counts), 4000);
    assert.ok(Math.abs((quarter.counts['1'] ?? 0) - 1000) < 130, JSON.stringify(quarter.counts));
    const flipped = await runOnBraket(config, makeRun(ROTATION, { params: { theta: Math.PI }, shots: 200 }));
    assert.deepEqual(flipped.counts, { '1': 200 });
  });

  test("several registers and an unmeasured qubit: counts over the circuit's clbits, as the local simulator gives them", async () => {
    const run = makeRun(PARTIAL, { shots: 300 });
    const r = await runOnBraket(config, run);
    // a[0] = q2 = 1, b[0] never written = 0, b[1] = q0 = 1; clbit 0 rightmost
    assert.deepEqual(r.counts, { '101': 300 });
    assert.deepEqual(r.counts, simulate(run.circuit, { shots: 300 }).counts);
  });

  test('a task resubmitted after a head restart follows its quantum task (resumeJobId) instead of creating another', async () => {
    const first = await runOnBraket(config, makeRun(BELL, { shots: 300 }));
    const created = emu.braket.tasks().length;
    const again = makeRun(BELL, { shots: 300 });
    const r = await runOnBraket(config, { ...again, resumeJobId: first.jobId });
    assert.equal(emu.braket.tasks().length, created, 'no new quantum task was created');
    assert.equal(r.jobId, first.jobId);
    assert.deepEqual(r.counts, first.counts);
    assert.ok(again.reports.some((i) => i.resumed === true));
  });

  test('the queue position is reported while the task waits', async () => {
    emu.braket.setQueueAhead(4);
    emu.braket.setDelays({ queuedMs: 150 });
    try {
      const run = makeRun(BELL, { shots: 100 });
      const r = await runOnBraket(config, run);
      assert.ok(
        run.reports.some((i) => i.queuePosition === 5 && i.jobId === r.jobId),
        JSON.stringify(run.reports),
      );
      assert.ok(run.logs.some((l) => /position 5 in the Normal queue/.test(l)));
      assert.equal(
        run.reports.at(-1)!.queuePosition,
        undefined,
        'the position is cleared once the task left the queue',
      );
    } finally {
      emu.braket.setQueueAhead(0);
      emu.braket.setDelays({ queuedMs: 30 });
    }
  });

  test('QPU tasks are priced per task and per shot', async () => {
    const run = makeRun(BELL, { shots: 100, device: FORTE });
    const r = await runOnBraket(config, run);
    assert.equal(r.device, FORTE);
    assert.equal(run.reports[0]!.costUsd, 8.3); // $0.30 + 100 x $0.08
  });
});

describe('cancellation and failures', () => {
  test('cancelling the task while it is queued cancels the remote quantum task', async () => {
    emu.braket.setDelays({ queuedMs: 60_000 });
    try {
      const abort = new AbortController();
      const run = makeRun(BELL, { signal: abort.signal });
      const pending = runOnBraket(config, run);
      await until(() => run.reports.some((i) => typeof i.jobId === 'string'), 'the task to be submitted');
      const arn = run.reports[0]!.jobId as string;
      abort.abort();
      await assert.rejects(
        pending,
        (e: unknown) => e instanceof BackendError && /cancelled/.test(e.message) && e.message.includes(arn),
      );
      assert.ok(emu.braket.calls.includes(`CancelQuantumTask ${arn}`));
      assert.ok(['CANCELLING', 'CANCELLED'].includes(emu.braket.task(arn)!.status));
      await until(() => emu.braket.task(arn)!.status === 'CANCELLED', 'the remote task to be CANCELLED');
    } finally {
      emu.braket.setDelays({ queuedMs: 30 });
    }
  });

  test('a FAILED task surfaces its failureReason', async () => {
    emu.braket.failNextTask('Device calibration failed: qubit 3 readout drifted');
    await assert.rejects(
      runOnBraket(config, makeRun(BELL)),
      (e: unknown) =>
        e instanceof BackendError &&
        !e.retryable &&
        /failed on arn:aws:braket:::device\/quantum-simulator\/amazon\/sv1: Device calibration failed: qubit 3 readout drifted/.test(
          e.message,
        ),
    );
  });

  test('an offline or retired device is refused before anything is submitted', async () => {
    const creates = emu.braket.calls.filter((c) => c.startsWith('CreateQuantumTask')).length;
    emu.braket.setDeviceStatus(FORTE, 'OFFLINE');
    try {
      await assert.rejects(
        runOnBraket(config, makeRun(BELL, { device: FORTE })),
        (e: unknown) => e instanceof BackendError && /Forte 1 .* is OFFLINE; wait until it is back/.test(e.message),
      );
      emu.braket.setDeviceStatus(FORTE, 'RETIRED');
      await assert.rejects(runOnBraket(config, makeRun(BELL, { device: FORTE })), /is retired; choose another device/);
    } finally {
      emu.braket.setDeviceStatus(FORTE, 'ONLINE');
    }
    assert.equal(emu.braket.calls.filter((c) => c.startsWith('CreateQuantumTask')).length, creates);
  });

  test('a circuit wider than the device is refused with both sizes', async () => {
    const tiny = 'arn:aws:braket:us-east-1::device/qpu/acme/Tiny-2';
    emu.braket.addDevice({
      arn: tiny,
      name: 'Tiny',
      provider: 'Acme',
      type: 'QPU',
      status: 'ONLINE',
      qubitCount: 2,
      shotsRange: [1, 1000],
      actions: ['braket.ir.openqasm.program'],
    });
    await assert.rejects(
      runOnBraket(config, makeRun(GHZ, { device: tiny })),
      (e: unknown) =>
        e instanceof BackendError &&
        /circuit needs 3 qubits; Tiny \(arn:aws:braket:us-east-1::device\/qpu\/acme\/Tiny-2\) has 2/.test(e.message),
    );
  });

  test('a device of another region is refused with the region to use', async () => {
    await assert.rejects(
      runOnBraket(config, makeRun(BELL, { device: 'arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet' })),
      /is in region eu-north-1 but the backend uses us-east-1; give the backend region 'eu-north-1'/,
    );
  });

  test('expired credentials give one clear error naming their source, never their values', async () => {
    useKeys(emu.expiredCredentials);
    try {
      await assert.rejects(runOnBraket(config, makeRun(BELL)), (e: unknown) => {
        assert.ok(e instanceof BackendError);
        assert.equal(e.retryable, false);
        assert.match(
          e.message,
          /the AWS credentials from the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY have expired/,
        );
        assert.match(e.message, /ExpiredTokenException/);
        assert.ok(
          !e.message.includes(emu.expiredCredentials.accessKeyId) &&
            !e.message.includes(emu.expiredCredentials.secretAccessKey),
        );
        return true;
      });
      useKeys({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'not-a-real-secret' });
      await assert.rejects(
        runOnBraket(config, makeRun(BELL)),
        /AWS rejected the credentials from the environment variables .*UnrecognizedClientException/,
      );
      useKeys({ accessKeyId: emu.credentials.accessKeyId, secretAccessKey: 'a-wrong-secret' });
      await assert.rejects(
        runOnBraket(config, makeRun(BELL)),
        /AWS rejected the credentials .*InvalidSignatureException/,
      );
    } finally {
      useKeys(emu.credentials);
    }
  });

  test('QASM the service cannot parse comes back as its ValidationException, with the program sent', async () => {
    const circuit: Circuit = {
      numQubits: 2,
      numClbits: 1,
      qregs: [{ name: 'q', size: 2, offset: 0 }],
      cregs: [{ name: 'c', size: 1, offset: 0 }],
      ops: [
        { kind: 'gate', name: 'cx', qubits: [0, 0], params: [] },
        { kind: 'measure', qubit: 0, clbit: 0 },
      ],
    };
    await assert.rejects(
      runOnBraket(config, makeRun('', { circuit })),
      (e: unknown) =>
        e instanceof BackendError &&
        !e.retryable &&
        /Braket rejected the circuit \(ValidationException: Invalid OpenQASM program: line \d+, column \d+: .*used twice/.test(
          e.message,
        ) &&
        /cx q\[0\], q\[0\];/.test(e.message),
    );
  });

  test('throttling and server errors are retried by the client and the task still completes', async () => {
    emu.braket.injectErrors('throttle', 2);
    const r = await runOnBraket(config, makeRun(BELL, { shots: 100 }));
    assert.equal(total(r.counts), 100);
    emu.braket.injectErrors('internal', 2);
    const s = await runOnBraket(config, makeRun(BELL, { shots: 100 }));
    assert.equal(total(s.counts), 100);
  });
});

describe('orrery backends test', () => {
  test('describeBraket shows the device and the results location, and fails clearly on a missing bucket', async () => {
    const lines = await describeBraket(config);
    assert.match(lines[0]!, /^SV1 \(Amazon Braket simulator\): ONLINE, 34 qubits, 0 tasks queued$/);
    assert.equal(lines[1], `results go to s3://${BUCKET}/orrery/tests/ (region us-east-1)`);
    assert.match(lines[2]!, /credentials from the environment variables/);
    await assert.rejects(
      describeBraket({ ...config, s3Bucket: 'amazon-braket-missing' }),
      (e: unknown) =>
        e instanceof BackendError &&
        /the results bucket amazon-braket-missing does not exist in region us-east-1; create it/.test(e.message),
    );
  });
});

describe('the emulated S3 speaks S3 to the real client', () => {
  const client = (keys = emu.credentials): S3Client =>
    new S3Client({ region: 'us-east-1', endpoint: emu.endpoint, forcePathStyle: true, credentials: keys });

  test('CreateBucket, PutObject, HeadObject, GetObject and ListObjectsV2 round-trip', async () => {
    const s3 = client();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'orrery-scratch' }));
      await s3.send(
        new PutObjectCommand({
          Bucket: 'orrery-scratch',
          Key: 'dir/a b+c.txt',
          Body: 'hello braket',
          ContentType: 'text/plain',
        }),
      );
      await s3.send(
        new PutObjectCommand({ Bucket: 'orrery-scratch', Key: 'dir/z.bin', Body: new Uint8Array([1, 2, 3]) }),
      );
      assert.equal(emu.s3.getObject('orrery-scratch', 'dir/a b+c.txt')?.body.toString(), 'hello braket');
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'orrery-scratch', Key: 'dir/a b+c.txt' }));
      assert.equal(head.ContentLength, 12);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'orrery-scratch', Key: 'dir/a b+c.txt' }));
      assert.equal(await got.Body!.transformToString(), 'hello braket');
      assert.equal(got.ContentType, 'text/plain');
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'orrery-scratch', Prefix: 'dir/' }));
      assert.deepEqual(
        list.Contents?.map((o) => [o.Key, o.Size]),
        [
          ['dir/a b+c.txt', 12],
          ['dir/z.bin', 3],
        ],
      );
    } finally {
      s3.destroy();
    }
  });

  test("missing keys and buckets, unknown and expired keys, in S3's own error codes", async () => {
    const s3 = client();
    try {
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nope' })),
        (e: Error) => e.name === 'NoSuchKey',
      );
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' })),
        (e: Error) => e.name === 'NoSuchBucket',
      );
      await assert.rejects(
        s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'nope' })),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404,
      );
    } finally {
      s3.destroy();
    }
    const stranger = client({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' });
    await assert.rejects(
      stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'x' })),
      (e: Error) => e.name === 'InvalidAccessKeyId',
    );
    stranger.destroy();
    const stale = client(emu.expiredCredentials);
    await assert.rejects(
      stale.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'x' })),
      (e: Error) => e.name === 'ExpiredToken',
    );
    stale.destroy();
  });
});

describe('through the public API', () => {
  test('the worker-side entry runs a circuit call on braket from the config in its environment', async () => {
    const { executeCircuit } = await import('../../backends/quantum/circuit-task.ts');
    const { CIRCUIT_ENV } = await import('../../backends/quantum/quantum-backend.ts');
    process.env[CIRCUIT_ENV.config] = JSON.stringify(config);
    try {
      const reports: TaskInfo[] = [];
      const r = await executeCircuit(
        { source: ROTATION, params: { theta: Math.PI }, shots: 50 },
        { signal: new AbortController().signal, report: (i) => reports.push(i), log: () => {} },
      );
      assert.deepEqual(r.counts, { '1': 50 });
      assert.equal(r.backend, 'braket');
      assert.equal(reports[0]!.jobId, r.jobId);
    } finally {
      delete process.env[CIRCUIT_ENV.config];
    }
  });

  test('circuit({ backend: "braket" }).remote(qasm) runs on the braket backend', async () => {
    const orrery = await import('orrery-compute');
    const { circuit } = orrery;
    await orrery.init({
      backends: [
        {
          name: 'braket',
          kind: 'braket',
          region: 'us-east-1',
          deviceArn: SV1,
          s3Bucket: BUCKET,
          endpoint: emu.endpoint,
          pollIntervalMs: 10,
        },
      ],
      logToDriver: false,
    });
    try {
      const r = await orrery.get(circuit({ backend: 'braket', shots: 1000 }).remote(BELL));
      assert.equal(r.backend, 'braket');
      assert.equal(r.device, SV1);
      assert.deepEqual(Object.keys(r.counts).sort(), ['00', '11']);
      assert.equal(total(r.counts), 1000);
      assert.equal(emu.braket.task(r.jobId!)?.status, 'COMPLETED');
      const [row] = await orrery.state.listTasks({ filters: [['name', '=', 'circuit']] });
      const info = row!.info as Record<string, unknown>;
      assert.equal(info.jobId, r.jobId);
      assert.equal(typeof info.costUsd, 'number');
    } finally {
      await orrery.shutdown();
    }
  });
});
