/**
 * Cost and budgets through the real head (issue 18 item 6): IBM Quantum jobs charged from their
 * metrics at the plan's rate, Braket tasks from the price table; a session budget and a
 * backend's budgetUsd refuse the job whose estimate would cross them, before submission, with
 * BudgetExceededError; the spend is in the State API, in `orrery sessions show`, and carried
 * into a resumed head. Run inside test/services/keyring.sh (the IBM API key is in the keychain).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entry } from '@napi-rs/keyring';
import { startIbmEmulator, type IbmEmulator } from '../emulators/ibm/index.ts';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws/server.ts';
import { SageMakerEmulator } from '../emulators/aws/sagemaker.ts';
import { CloudWatchLogsEmulator } from '../emulators/aws/cloudwatch-logs.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-cost-'));
const orrery = await import('orrery-compute');
const { SessionStore } = await import('../../orchestrator/sessions/index.ts');
const { sessionsCommand } = await import('../../orchestrator/cli/sessions-command.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

const BELL = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c[0] = measure q[0];
c[1] = measure q[1];
`;
const SV1 = 'arn:aws:braket:::device/quantum-simulator/amazon/sv1';
const BUCKET = 'amazon-braket-orrery-cost';

let ibm: IbmEmulator;
let aws: AwsEmulator;
let sm: SageMakerEmulator;
const ROLE = 'arn:aws:iam::123456789012:role/OrreryTraining';
const secret = `orrery-test-ibm-cost-${randomBytes(4).toString('hex')}`;
const savedEnv = { ...process.env };

before(async () => {
  ibm = await startIbmEmulator({ queueDelayMs: 30, runDelayMs: 10 });
  new Entry('orrery', secret).setPassword(ibm.apiKey);
  aws = await startAwsEmulator({ buckets: [BUCKET] });
  const logs = new CloudWatchLogsEmulator(['us-east-1']);
  sm = new SageMakerEmulator(aws.s3, logs, { roles: [ROLE], stepMs: 30 });
  aws.register(logs);
  aws.register(sm);
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = aws.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = aws.credentials.secretAccessKey;
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await ibm.close();
  sm.close();
  await aws.close();
  new Entry('orrery', secret).deletePassword();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

function ibmBackend(extra: Record<string, unknown> = {}) {
  return {
    name: 'ibm',
    kind: 'ibm-quantum',
    instanceCrn: ibm.instanceCrn,
    apiKeySecret: secret,
    url: ibm.url,
    iamUrl: ibm.iamUrl,
    pollIntervalMs: 20,
    ...extra,
  };
}

// Each IBM job of 1000 shots: estimated (2 s + 1000 x 0.00025 s) x $1.60 = $3.60 before it runs;
// the emulator reports ceil(1 + 1000 x 0.0002) = 2 quantum seconds, charged $3.20.
test('IBM: cost from the job metrics; a session budget of $8 runs 2 jobs and refuses the 3rd before submission', async () => {
  await orrery.init({ backends: [ibmBackend()], budget: { usd: 8 }, session: 'cost-ibm', logToDriver: false });
  const jobsBefore = ibm.jobs().length;
  try {
    const bell = orrery.circuit({ backend: 'ibm', shots: 1000 });
    for (let i = 0; i < 2; i++) await orrery.get(bell.remote(BELL));
    const rows = await orrery.state.listTasks({ filters: [['name', '=', 'circuit']] });
    for (const row of rows) {
      const info = row.info as Record<string, unknown>;
      assert.equal(info.costUsd, 3.2);
      assert.equal(info.quantumSeconds, 2);
      assert.match(
        String(info.costBasis),
        /2 s of QPU usage \(job metrics\) at the pay-as-you-go plan's \$1\.6 per second/,
      );
    }
    await assert.rejects(orrery.get(bell.remote(BELL)), (err: unknown) => {
      assert.ok(err instanceof orrery.BudgetExceededError, String(err));
      assert.equal(err.estimateUsd, 3.6);
      assert.equal(err.spentUsd, 6.4);
      assert.match(
        err.message,
        /^IBM Quantum job on (ibm_fake_\w+|the least busy device) \(1 circuit x 1000 shots\): estimated \$3\.60 would cross the session budget of \$8\.00: \$6\.40 spent so far\./,
      );
      return true;
    });
    assert.equal(ibm.jobs().length - jobsBefore, 2, 'the refused job was never submitted');
    const cost = await orrery.state.summarizeCost();
    assert.equal(cost.budgetUsd, 8);
    assert.equal(cost.spentUsd, 6.4);
    assert.equal(cost.reservedUsd, 0);
    assert.deepEqual(cost.byBackend, [{ backend: 'ibm', spentUsd: 6.4, reservedUsd: 0, tasks: 2 }]);
  } finally {
    await orrery.shutdown();
  }
  const shown = new SessionStore().show('cost-ibm');
  assert.deepEqual(shown.cost.byBackend, [{ backend: 'ibm', usd: 6.4, tasks: 2 }]);
  const lines: string[] = [];
  await sessionsCommand(['show', 'cost-ibm'], false, (l) => lines.push(l));
  const text = lines.join('\n');
  assert.match(text, /budget \$8\.00: \$6\.40 spent \(2 paid tasks\)/);
  assert.match(text, /ibm: \$6\.40 over 2 tasks/);
});

test('IBM: concurrent submissions cannot all pass; the head reserves each estimate before the job is submitted', async () => {
  await orrery.init({
    backends: [ibmBackend({ maxConcurrentJobs: 4 })],
    budget: { usd: 8 },
    logToDriver: false,
  });
  const pubsBefore = ibm.jobs().reduce((n, j) => n + j.pubs.length, 0);
  try {
    const bell = orrery.circuit({ backend: 'ibm', shots: 1000 });
    const refs = [0, 1, 2, 3].map(() => bell.remote(BELL));
    const outcomes = await Promise.allSettled(refs.map((r) => orrery.get(r)));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2, JSON.stringify(outcomes));
    for (const o of refused) assert.equal((o as PromiseRejectedResult).reason?.name, 'BudgetExceededError');
    assert.match(
      String((refused[0] as PromiseRejectedResult).reason.message),
      /reserved by jobs in flight|spent so far/,
    );
    // The two that passed may share one job (batchWindowMs): count the circuits submitted.
    assert.equal(ibm.jobs().reduce((n, j) => n + j.pubs.length, 0) - pubsBefore, 2);
  } finally {
    await orrery.shutdown();
  }
});

test('Braket: a backend budgetUsd admits two SV1 tasks at the $0.00375 minimum and refuses the third', async () => {
  await orrery.init({
    backends: [
      {
        name: 'braket',
        kind: 'braket',
        region: 'us-east-1',
        deviceArn: SV1,
        s3Bucket: BUCKET,
        endpoint: aws.endpoint,
        pollIntervalMs: 10,
        budgetUsd: 0.008,
      },
    ],
    logToDriver: false,
  });
  try {
    const bell = orrery.circuit({ backend: 'braket', shots: 100 });
    for (let i = 0; i < 2; i++) await orrery.get(bell.remote(BELL));
    await assert.rejects(orrery.get(bell.remote(BELL)), (err: unknown) => {
      assert.ok(err instanceof orrery.BudgetExceededError, String(err));
      assert.equal(err.scope, 'braket');
      assert.match(
        err.message,
        /Braket quantum task on .*sv1 \(100 shots\): estimated \$0\.00375 would cross the backend braket budget of \$0\.008: \$0\.0075 spent so far/,
      );
      assert.match(err.message, /budgetUsd of backend braket/);
      return true;
    });
    const cost = await orrery.state.summarizeCost();
    assert.equal(cost.budgetUsd, undefined);
    assert.deepEqual(cost.byBackend, [
      { backend: 'braket', spentUsd: 0.0075, reservedUsd: 0, tasks: 2, budgetUsd: 0.008 },
    ]);
  } finally {
    await orrery.shutdown();
  }
});

// ml.g5.xlarge is $1.408/h: a job with maxRuntimeS 3600 can cost at most $1.408, which is what it reserves.
test('SageMaker: a job reserves its worst case (instances x maxRuntimeS); its charge replaces it once it ended', async () => {
  const sagemaker = (name: string, budgetUsd: number) => ({
    name,
    kind: 'sagemaker',
    region: 'us-east-1',
    roleArn: ROLE,
    s3Prefix: `s3://${BUCKET}/orrery`,
    instanceType: 'ml.g5.xlarge',
    endpoint: aws.endpoint,
    pollIntervalMs: 50,
    maxRuntimeS: 3600,
    budgetUsd,
  });
  await orrery.init({ backends: [sagemaker('sm', 2), sagemaker('sm-small', 1)], logToDriver: false });
  try {
    const jobsBefore = sm.allJobs().length;
    await assert.rejects(
      orrery.get(
        orrery.command({ image: 'python:3.11', backend: 'sm-small' }).remote({ argv: ['sh', '-c', 'echo hi'] }),
      ),
      (err: unknown) => {
        assert.ok(err instanceof orrery.BudgetExceededError, String(err));
        assert.match(
          err.message,
          /^SageMaker training job \S+ \(1 x ml\.g5\.xlarge at \$1\.408\/h for 3600 billable s/,
        );
        assert.match(
          err.message,
          /estimated \$1\.41 would cross the backend sm-small budget of \$1\.00: \$0\.00 spent so far/,
        );
        return true;
      },
    );
    assert.equal(sm.allJobs().length, jobsBefore, 'no training job was created');
    // $2: the second job fits only because the first one's charge (a second) replaced its $1.408 reservation.
    const run = orrery.command({ image: 'python:3.11', backend: 'sm' });
    for (let i = 0; i < 2; i++)
      assert.equal((await orrery.get(run.remote({ argv: ['sh', '-c', 'echo hi'] }))).exitCode, 0);
    const row = (await orrery.state.summarizeCost()).byBackend.find((b) => b.backend === 'sm')!;
    assert.equal(row.tasks, 2);
    assert.equal(row.reservedUsd, 0);
    assert.ok(row.spentUsd > 0 && row.spentUsd < 0.01, String(row.spentUsd));
  } finally {
    await orrery.shutdown();
  }
});

test('a bad budget is one clear TypeError naming the option or the backend', async () => {
  await assert.rejects(orrery.init({ budget: { usd: -1 } }), /init\(\): option budget must be \{ usd: N \}/);
  await assert.rejects(
    orrery.init({ backends: [ibmBackend({ budgetUsd: 'ten' })] }),
    /backend ibm: budgetUsd must be a number of US dollars >= 0/,
  );
});

test('a resumed head keeps the session budget it recorded and counts what the session spent', async () => {
  const service = await HeadService.start({
    port: 0,
    numCpus: 1,
    session: 'cost-ibm',
    resume: true,
    log: () => undefined,
  });
  try {
    const cost = service.head.spend.summary();
    assert.equal(cost.budgetUsd, 8, 'the budget init() recorded in the session');
    assert.equal(cost.spentUsd, 6.4);
    assert.deepEqual(
      cost.byBackend.map((b) => [b.backend, b.spentUsd]),
      [['ibm', 6.4]],
    );
  } finally {
    await service.stop();
  }
});
