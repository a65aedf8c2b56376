/**
 * The sagemaker backend through the public API, against the AWS emulator (test/emulators/aws):
 * the real @aws-sdk/client-sagemaker, client-s3 and client-cloudwatch-logs, SigV4-signed with
 * keys from the environment (or a profile of a shared credentials file), jobs really run by the
 * emulator as host processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BackendError,
  CommandFailedError,
  TaskCancelledError,
  cancel,
  command,
  get,
  init,
  isInitialized,
  nodes,
  shutdown,
  state,
} from 'orrery-compute';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws/server.ts';
import { SageMakerEmulator } from '../emulators/aws/sagemaker.ts';
import { CloudWatchLogsEmulator } from '../emulators/aws/cloudwatch-logs.ts';
import { tempDir, until } from './helpers.ts';
import { ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

const BUCKET = 'orrery-sagemaker-test';
const ROLE = 'arn:aws:iam::123456789012:role/OrreryTraining';
const savedEnv = { ...process.env };
let emu: AwsEmulator;
let sm: SageMakerEmulator;
let logs: CloudWatchLogsEmulator;
let driverOut = '';
const realWrite = process.stdout.write.bind(process.stdout);

function backend(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    kind: 'sagemaker',
    region: 'us-east-1',
    roleArn: ROLE,
    s3Prefix: `s3://${BUCKET}/orrery`,
    instanceType: 'ml.g5.xlarge',
    endpoint: emu.endpoint,
    pollIntervalMs: 50,
    maxConcurrentJobs: 2,
    ...extra,
  };
}

before(async () => {
  emu = await startAwsEmulator({ buckets: [BUCKET] });
  logs = new CloudWatchLogsEmulator(['us-east-1']);
  sm = new SageMakerEmulator(emu.s3, logs, { roles: [ROLE], stepMs: 30 });
  emu.register(logs);
  emu.register(sm);
  const home = tempDir('sagemaker-aws');
  writeFileSync(
    join(home, 'credentials'),
    `[expired]\naws_access_key_id = ${emu.expiredCredentials.accessKeyId}\naws_secret_access_key = ${emu.expiredCredentials.secretAccessKey}\n`,
  );
  for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']) delete process.env[k];
  // Nothing on this machine may lend other credentials to the SDK's default chain.
  process.env.AWS_CONFIG_FILE = join(home, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(home, 'credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = emu.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emu.credentials.secretAccessKey;

  const { roleArn: _, ...noRole } = backend('norole');
  await assert.rejects(init({ backends: [noRole] }), /backend norole: roleArn must be the ARN of an IAM role/);
  assert.equal(isInitialized(), false);

  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    driverOut += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return realWrite(chunk, ...rest);
  }) as typeof process.stdout.write;
  await init({
    logToDriver: true,
    backends: [
      backend('sm'),
      backend('sm-unknown-role', { roleArn: 'arn:aws:iam::123456789012:role/DoesNotExist' }),
      backend('sm-region', { region: 'us-east-9' }),
      backend('sm-expired', { profile: 'expired' }),
    ],
  });
});

after(async () => {
  await shutdown();
  process.stdout.write = realWrite;
  sm.close();
  await emu.close();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

/** PutObject requests that stored an input blob (CopyObject and the job's own uploads excluded). */
function inputUploads(): number {
  return emu.requests.filter(
    (r) => r.service === 's3' && r.method === 'PUT' && r.path.includes('/inputs/sha256/') && r.status === 200,
  ).length;
}

const TRAIN_SH = [
  'echo "training on $1 with $GREETING"',
  'wc -c < "$1"',
  'cp "$1" "$ORRERY_MODEL_DIR/copy.txt"',
  'printf weights > "$ORRERY_MODEL_DIR/w.bin"',
  'mkdir -p "$ORRERY_MODEL_DIR/sub" && echo deep > "$ORRERY_MODEL_DIR/sub/deep.txt"',
  'echo "{}" > "$ORRERY_OUTPUT_DIR/metrics.json"',
  'echo note-on-stderr >&2',
].join('\n');

test('a command with an image runs as a training job: inputs in, declared outputs and logs back, cost recorded', async () => {
  const train = command({ image: 'python:3.11', outputs: ['model/*', 'output/metrics.json'], backend: 'sm' });
  const r = await get(
    train.remote({
      argv: ['sh', 'train.sh', 'data/in.txt'],
      inputs: { 'train.sh': TRAIN_SH, 'data/in.txt': 'hello world\n' },
      env: { GREETING: 'hi' },
    }),
  );
  assert.equal(r.exitCode, 0);
  assert.deepEqual(Object.keys(r.files).sort(), ['model/copy.txt', 'model/w.bin', 'output/metrics.json']);
  assert.equal(new TextDecoder().decode(r.files['model/copy.txt']), 'hello world\n');
  assert.equal(new TextDecoder().decode(r.files['model/w.bin']), 'weights');
  assert.match(r.stdout, /training on \S*\/opt\/ml\/input\/data\/inputs\/data\/in\.txt with hi\n/);
  assert.match(r.stdout, /^12$/m);
  assert.match(r.stdout, /note-on-stderr/);

  const job = sm.allJobs().at(-1)!;
  assert.match(job.name, /^sh-[a-zA-Z0-9-]+$/);
  assert.deepEqual(job.request.AlgorithmSpecification.ContainerEntrypoint, ['sh']);
  assert.equal(job.request.AlgorithmSpecification.TrainingImage, 'python:3.11');
  assert.deepEqual(job.request.ResourceConfig, { InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 });
  assert.deepEqual(
    job.transitions.map((t) => t.Status),
    ['Starting', 'Downloading', 'Training', 'Uploading', 'Completed'],
  );

  const [row] = await state.listTasks({ filters: [['name', '=', 'sh']], limit: 10 });
  const info = row!.info as Record<string, unknown>;
  assert.equal(info.jobId, job.name);
  assert.equal(info.secondaryStatus, 'Completed');
  assert.equal(info.billableSeconds, 1);
  assert.equal(info.costUsd, Math.round((1.408 / 3600) * 1e6) / 1e6);
  const vnode = (await nodes()).find((n) => n.nodeId === row!.nodeId)!;
  const labels = vnode.labels as Record<string, string>;
  assert.equal(labels.accelerator, 'A10G');
  assert.equal(labels['orrery.io/instance-type'], 'ml.g5.xlarge');
});

test('unchanged inputs are not uploaded again; a changed one is', async () => {
  const run = (data: string) =>
    get(
      command({ image: 'python:3.11', outputs: ['model/copy.txt'], backend: 'sm' }).remote({
        argv: ['sh', 'train.sh', 'data/in.txt'],
        inputs: { 'train.sh': TRAIN_SH, 'data/in.txt': data },
        env: { GREETING: 'again' },
      }),
    );
  const first = await run('same bytes\n');
  const uploads = inputUploads();
  const second = await run('same bytes\n');
  assert.equal(inputUploads(), uploads, 'the second run uploaded an input S3 already had');
  assert.equal(
    new TextDecoder().decode(second.files['model/copy.txt']),
    new TextDecoder().decode(first.files['model/copy.txt']),
  );
  const third = await run('other bytes\n');
  assert.equal(inputUploads(), uploads + 1);
  assert.equal(new TextDecoder().decode(third.files['model/copy.txt']), 'other bytes\n');
});

test('a non-zero exit is CommandFailedError with the exit code from FailureReason and the log tail', async () => {
  const argv = [
    'sh',
    '-c',
    'echo working; echo "boom: bad input" >&2; echo "bad input" > /opt/ml/output/failure; exit 2',
  ];
  await assert.rejects(get(command({ image: 'python:3.11', backend: 'sm' }).remote({ argv })), (e: unknown) => {
    assert.ok(e instanceof CommandFailedError, String(e));
    assert.equal(e.exitCode, 2);
    assert.match(e.stderrTail, /boom: bad input/);
    assert.deepEqual(e.argv, argv);
    return true;
  });
  assert.match(sm.allJobs().at(-1)!.failureReason!, /^AlgorithmError: bad input, exit code: 2$/);
});

test('cancelling a running task stops its training job; its log streamed to the driver meanwhile', async () => {
  const ref = command({ image: 'python:3.11', backend: 'sm' }).remote({
    argv: ['sh', '-c', 'echo started-long-job; sleep 60'],
  });
  const job = await until(
    'the job to train',
    () =>
      sm
        .allJobs()
        .find(
          (j) =>
            j.request.AlgorithmSpecification.ContainerArguments?.[1]?.includes('started-long-job') &&
            j.secondary === 'Training',
        ),
    30_000,
  );
  await until('the log line on the driver', () => driverOut.includes('started-long-job'), 30_000);
  cancel(ref);
  await assert.rejects(get(ref), TaskCancelledError);
  await until('StopTrainingJob', () => sm.calls.includes(`StopTrainingJob ${job.name}`), 30_000);
  await until('the job to be Stopped', () => job.status === 'Stopped', 30_000);
  assert.deepEqual(
    job.transitions.slice(-2).map((t) => t.Status),
    ['Stopping', 'Stopped'],
  );
});

test('throttling and an exhausted quota are retried; a quota that stays exhausted is a retryable BackendError', async () => {
  // Only CreateTrainingJob: the previous test's job may still be polled (DescribeTrainingJob) meanwhile.
  sm.throttleNext(2, 'CreateTrainingJob');
  const r = await get(
    command({ image: 'python:3.11', backend: 'sm', name: 'throttled' }).remote({ argv: ['sh', '-c', 'echo ok'] }),
  );
  assert.match(r.stdout, /^ok$/m);
  const name = sm.allJobs().at(-1)!.name;
  assert.equal(sm.calls.filter((c) => c === `CreateTrainingJob ${name}`).length, 3);

  sm.limitNext(1);
  await get(command({ image: 'python:3.11', backend: 'sm' }).remote({ argv: ['sh', '-c', 'echo quota'] }));
  sm.limitNext(1000);
  await assert.rejects(
    get(command({ image: 'python:3.11', backend: 'sm' }).remote({ argv: ['sh', '-c', 'echo never'] })),
    (e: unknown) => {
      assert.ok(e instanceof BackendError, String(e));
      assert.equal(e.retryable, true);
      assert.match(e.message, /ResourceLimitExceeded.*Service Quotas/s);
      return true;
    },
  );
  sm.limitNext(0);
});

test('a command with an image placed on a non-container backend runs there, with a note that the image is ignored', async () => {
  const jobs = sm.allJobs().length;
  const r = await get(
    command({ image: 'python:3.11', backend: 'local' }).remote({ argv: ['sh', '-c', 'echo local-run'] }),
  );
  assert.equal(r.stdout, 'local-run\n');
  assert.equal(sm.allJobs().length, jobs);
  await until('the note on the driver', () => /image python:3\.11 is ignored on backend local/.test(driverOut));
});

test('a role SageMaker cannot assume, a region it does not serve and expired credentials each fail with one clear BackendError', async () => {
  const run = (b: string) => get(command({ image: 'python:3.11', backend: b }).remote({ argv: ['true'] }));
  await assert.rejects(
    run('sm-unknown-role'),
    (e: unknown) =>
      e instanceof BackendError &&
      /cannot use the role arn:aws:iam::123456789012:role\/DoesNotExist .*Could not assume role.*Check roleArn/s.test(
        e.message,
      ) &&
      !e.retryable,
  );
  await assert.rejects(
    run('sm-region'),
    (e: unknown) =>
      e instanceof BackendError &&
      /region us-east-9 is not one SageMaker serves.*Check the backend's region/s.test(e.message),
  );
  await assert.rejects(
    run('sm-expired'),
    (e: unknown) =>
      e instanceof BackendError &&
      /credentials from the AWS profile expired .* have expired .*ExpiredTokenException/s.test(e.message),
  );
});

test('the emulator answers ListTrainingJobs and FilterLogEvents to the plain SDK clients', async () => {
  const opts = { region: 'us-east-1', endpoint: emu.endpoint, credentials: emu.credentials };
  const client = new SageMakerClient(opts);
  const cw = new CloudWatchLogsClient(opts);
  try {
    const listed = await client.send(new ListTrainingJobsCommand({ StatusEquals: 'Failed', MaxResults: 100 }));
    const failed = sm
      .allJobs()
      .filter((j) => j.status === 'Failed')
      .map((j) => j.name)
      .sort();
    assert.ok(failed.length > 0);
    assert.deepEqual((listed.TrainingJobSummaries ?? []).map((j) => j.TrainingJobName).sort(), failed);
    const found = await cw.send(
      new FilterLogEventsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', filterPattern: 'boom: bad input' }),
    );
    assert.equal(found.events?.length, 1);
    assert.match(found.events![0]!.logStreamName!, /^sh-[a-zA-Z0-9-]+\/algo-1-\d+$/);
  } finally {
    client.destroy();
    cw.destroy();
  }
});
