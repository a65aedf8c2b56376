/** The container argv builder and runtime lookup of command tasks (orchestrator/api/command-container.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import {
  containerName,
  containerRunArgv,
  findContainerRuntime,
  withHostLock,
  type ContainerRunPlan,
} from '../../orchestrator/api/command-container.ts';
import { RuntimeEnvSetupError } from '../../orchestrator/core/errors.ts';

const lockDigest = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 24);

const plan = (over: Partial<ContainerRunPlan>): ContainerRunPlan => ({
  runtime: 'podman',
  image: 'localhost/x',
  name: 'orrery-t1-abcd',
  workDir: '/home/u/.orrery/run/a/cmd-1',
  envNames: [],
  gpuIds: [],
  options: [],
  argv: ['python3', 'train.py'],
  ...over,
});

test('podman: --rm, a name, host network, the work dir mounted at its own path and used as cwd, env by name', () => {
  const argv = containerRunArgv(plan({ envNames: ['API_KEY', 'MODE'] }));
  assert.deepEqual(argv, [
    'run',
    '--rm',
    '--name',
    'orrery-t1-abcd',
    '--network',
    'host',
    '--volume',
    '/home/u/.orrery/run/a/cmd-1:/home/u/.orrery/run/a/cmd-1',
    '--workdir',
    '/home/u/.orrery/run/a/cmd-1',
    '--env',
    'API_KEY',
    '--env',
    'MODE',
    'localhost/x',
    'python3',
    'train.py',
  ]);
  assert.ok(!argv.some((w) => w.includes('=') && w.startsWith('API_KEY')), 'no value on argv');
});

test('GPUs: CDI devices for podman, --gpus device= for docker (quoted for several), --nv for Apptainer', () => {
  const p = containerRunArgv(plan({ gpuIds: ['0', '3'] }));
  assert.deepEqual(
    p.filter((_, i) => p[i - 1] === '--device'),
    ['nvidia.com/gpu=0', 'nvidia.com/gpu=3'],
  );
  const d1 = containerRunArgv(plan({ runtime: 'docker', gpuIds: ['2'] }));
  assert.equal(d1[d1.indexOf('--gpus') + 1], 'device=2');
  const d2 = containerRunArgv(plan({ runtime: 'docker', gpuIds: ['0', '1'] }));
  assert.equal(d2[d2.indexOf('--gpus') + 1], '"device=0,1"');
  const a = containerRunArgv(plan({ runtime: 'apptainer', image: '/x/img.sif', gpuIds: ['1'] }));
  assert.deepEqual(a, [
    'exec',
    '--bind',
    '/home/u/.orrery/run/a/cmd-1',
    '--pwd',
    '/home/u/.orrery/run/a/cmd-1',
    '--nv',
    '/x/img.sif',
    'python3',
    'train.py',
  ]);
  assert.ok(!containerRunArgv(plan({})).includes('--device'));
  assert.ok(!containerRunArgv(plan({ runtime: 'apptainer' })).includes('--nv'));
});

test('Apptainer gets no --env words: it passes the host environment through', () => {
  const a = containerRunArgv(plan({ runtime: 'apptainer', envNames: ['SECRET'] }));
  assert.ok(!a.includes('--env') && !a.includes('SECRET'));
});

test('user options come before the image; --network in them replaces the default', () => {
  const argv = containerRunArgv(plan({ options: ['--shm-size=1g', '--network=none'] }));
  assert.ok(!argv.includes('host'));
  assert.deepEqual(argv.slice(-5), ['--shm-size=1g', '--network=none', 'localhost/x', 'python3', 'train.py']);
});

test('words with spaces, quotes and shell characters stay single words (no shell is involved)', () => {
  const hostile = ['$(touch /tmp/p)', "it's; rm -rf /", 'a b'];
  const argv = containerRunArgv(plan({ argv: hostile, options: ['--label', 'x=$(id)'] }));
  assert.deepEqual(argv.slice(-3), hostile);
  assert.equal(argv[argv.indexOf('--label') + 1], 'x=$(id)');
});

test('an env name that would carry a value, or a work dir mounts cannot express, is refused', () => {
  assert.throws(() => containerRunArgv(plan({ envNames: ['A=1'] })), /not a valid environment variable name/);
  assert.throws(() => containerRunArgv(plan({ workDir: '/a:b' })), /':' or ','/);
});

test('container names are unique and safe', () => {
  const a = containerName('task/1:x');
  assert.match(a, /^orrery-task1x-[0-9a-f]{8}$/);
  assert.notEqual(a, containerName('task/1:x'));
});

test('the runtime is the given one, else the first of apptainer, podman, docker on PATH; none is a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-rt-'));
  const bin = (d: string, name: string) => {
    mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, d, name), '#!/bin/sh\n');
    chmodSync(join(dir, d, name), 0o755);
  };
  bin('a', 'docker');
  bin('b', 'podman');
  const path = `${join(dir, 'a')}:${join(dir, 'b')}`;
  const where = { nodeId: 'n1', backend: 'lab' };
  assert.deepEqual(await findContainerRuntime(undefined, where, path), {
    runtime: 'podman',
    exe: join(dir, 'b', 'podman'),
  });
  assert.equal((await findContainerRuntime('docker', where, path)).exe, join(dir, 'a', 'docker'));
  await assert.rejects(findContainerRuntime('apptainer', where, path), (e: unknown) => {
    assert.ok(e instanceof RuntimeEnvSetupError);
    assert.match(e.message, /node .*\(n1, backend lab\) has no apptainer on its PATH/);
    assert.match(e.message, /install Apptainer/);
    return true;
  });
  await assert.rejects(
    findContainerRuntime(undefined, where, join(dir, 'none')),
    /has none of apptainer, podman, docker.*apt-get install podman/,
  );
});

test('an image that reads as a flag is refused', () => {
  assert.throws(() => containerRunArgv(plan({ image: '--privileged' })), /starts with '-'/);
});

test('the host lock serialises holders, and a lock left by a dead process is taken over', async () => {
  const root = mkdtempSync(join(tmpdir(), 'orrery-lock-'));
  const runtimeDir = join(root, 'agent-dir');
  const order: string[] = [];
  const hold = (tag: string) =>
    withHostLock(
      'podman\0img',
      async () => {
        order.push(`${tag}+`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${tag}-`);
      },
      runtimeDir,
    );
  await Promise.all([hold('a'), hold('b')]);
  assert.deepEqual(order.join(' ').replace(/[ab]/g, 'x'), 'x+ x- x+ x-');
  assert.deepEqual(readdirSync(root), [], 'released locks leave no file');
  await withHostLock(
    'k',
    async () => {
      const [file] = readdirSync(root);
      assert.match(file!, /^image-.+-[0-9a-f]{24}\.lock$/);
      assert.equal(statSync(join(root, file!)).mode & 0o777, 0o700);
    },
    runtimeDir,
  );
  // A lock whose holder is gone: 4194305 is above Linux's largest pid_max (2^22).
  const stale = join(root, `image-${hostname()}-${lockDigest('k2')}.lock`);
  mkdirSync(stale);
  writeFileSync(join(stale, 'owner'), JSON.stringify({ host: hostname(), pid: 4194305, since: 1 }));
  assert.equal(await withHostLock('k2', async () => 'ran', runtimeDir), 'ran');
});
