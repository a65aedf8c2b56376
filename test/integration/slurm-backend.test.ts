import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { init, shutdown, remote, get, state, command } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import type { SlurmBackend } from '../../backends/slurm/slurm-backend.ts';
import { requireService, slurmService, sshService } from '../services/env.ts';
import { conformance } from './conformance.ts';
import { until } from './helpers.ts';

const login = `${sshService.user}@${sshService.host}:${sshService.port}`;
const base = {
  kind: 'slurm',
  loginHost: login,
  identityFile: sshService.keyPath,
  knownHostsFile: sshService.knownHostsPath,
  partition: slurmService.partition,
};
let cluster: LocalCluster;
let slurm: SlurmBackend;

function ourJobs(): string[] {
  return execFileSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' })
    .split('\n')
    .filter((j) => j.startsWith('orrery-hpc-'));
}

before(async () => {
  requireService('slurm');
  requireService('ssh');
  cluster = await LocalCluster.start({ infeasibleGraceMs: 3000 });
  await cluster.addNode({ numCpus: 1 });
  slurm = (await createBackend({
    ...base,
    name: 'hpc',
    cpusPerNode: 1,
    gres: 'gpu:a100:1',
    maxNodes: 2,
    idleTimeoutS: 3,
  })) as SlurmBackend;
  await cluster.head.addBackend(slurm);
  await init({ cluster, logToDriver: false });
});
after(async () => {
  await shutdown();
  await cluster.shutdown();
});

test('GPU demand starts a Slurm allocation whose agent runs the task with the allocated GPU', async () => {
  const onGpu = remote({ numGpus: 1 }, async () => {
    const { getRuntimeContext } = await import('orrery-compute');
    return {
      backend: getRuntimeContext().backend,
      cuda: process.env.CUDA_VISIBLE_DEVICES,
      job: process.env.SLURM_JOB_NAME,
    };
  });
  const r = await get(onGpu.remote());
  assert.equal(r.backend, 'hpc');
  assert.equal(r.cuda, '0');
  assert.match(r.job ?? '', /^orrery-hpc-/);
  const [node] = await state.listNodes({
    filters: [
      ['backend', '=', 'hpc'],
      ['state', '=', 'ALIVE'],
    ],
  });
  assert.deepEqual((node!.labels as Record<string, string>).accelerator, 'A100');
});

test('an allocation cancelled with scancel mid-task is a dead node; the task is retried on a new allocation', async () => {
  const slow = remote({ backend: 'hpc', maxRetries: 2 }, async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return process.env.SLURM_JOB_NAME;
  });
  const before = slurm.requested;
  const ref = slow.remote(4000);
  const [job] = await until(
    'the task to be running in an allocation',
    async () => {
      const [t] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
      return t?.state === 'RUNNING' ? ourJobs() : undefined;
    },
    60_000,
  );
  execFileSync('scancel', ['--name', job!]);
  const ranOn = await get(ref);
  assert.notEqual(ranOn, job, 'the retry ran in another allocation');
  assert.ok(slurm.requested > before);
});

test('idle allocations are released (scancel), and none outlives the backend', async () => {
  await until('idle allocations to be released', () => ourJobs().length === 0, 30_000);
  await get(command({ backend: 'hpc' }).remote({ argv: ['true'] }));
  assert.ok(ourJobs().length >= 1);
});

conformance('hpc');

test('an allocation does not outlive a head killed with SIGKILL', async () => {
  const driver = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/slurm-driver.ts'], {
    stdio: 'ignore',
  });
  const jobs = () =>
    execFileSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' })
      .split('\n')
      .filter((j) => j.startsWith('orrery-orphan-'));
  await until('the driver to hold an allocation', () => jobs().length > 0, 60_000);
  driver.kill('SIGKILL');
  await until('the allocation to end with its head', () => jobs().length === 0, 30_000);
});

test('the backend check reports the partition', async () => {
  const lines = await slurm.check();
  assert.ok(
    lines.some((l) => /partition debug\*?: up/.test(l)),
    lines.join('\n'),
  );
  const bad = (await createBackend({ ...base, name: 'bad', partition: 'nosuch' })) as SlurmBackend;
  await assert.rejects(bad.check(), /partition nosuch does not exist/);
});

test('bad slurm configs are refused naming the field', async () => {
  await assert.rejects(createBackend({ ...base, name: 'x', gres: 'gpu:a100:two' }), /gres must be a gres list/);
  await assert.rejects(createBackend({ ...base, name: 'x', maxNodes: 0 }), /maxNodes must be an integer >= 1/);
  await assert.rejects(
    createBackend({ ...base, name: 'x', srunArgs: ['rm -rf'] }),
    /srunArgs must be a list of srun options/,
  );
  await assert.rejects(createBackend({ ...base, name: 'x', partition: 'a b' }), /partition must be a Slurm value/);
});
