/**
 * Smoke tests of the real services themselves (through the OpenSSH client, srun and
 * @napi-rs/keyring), so that a broken setup shows up here rather than as a backend bug.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fakeGpus, requireService, slurmPairService, slurmService, sshService } from './env.ts';

/** Runs `command` on the test sshd as `user` with the OpenSSH client; stdin from `input`. */
function ssh(
  user: string,
  command: string,
  options: { knownHosts?: string; input?: string } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'ssh',
    [
      '-p',
      String(sshService.port),
      '-i',
      sshService.keyPath,
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${options.knownHosts ?? sshService.knownHostsPath}`,
      `${user}@${sshService.host}`,
      command,
    ],
    { encoding: 'utf8', input: options.input ?? '', timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('sshd: the test user runs the same node non-interactively', (t) => {
  if (!requireService('ssh', t)) return;
  const r = ssh(sshService.user, 'node --version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), process.version);
});

test('sshd: hashed known_hosts verifies, the wrong key is refused', (t) => {
  if (!requireService('ssh', t)) return;
  assert.equal(ssh(sshService.user, 'true', { knownHosts: sshService.knownHostsHashedPath }).status, 0);
  const wrong = ssh(sshService.user, 'true', { knownHosts: sshService.knownHostsWrongPath });
  assert.equal(wrong.status, 255);
  assert.match(wrong.stderr, /Host key verification failed/);
});

test('sshd: only the gpu user sees a two-A100 nvidia-smi', (t) => {
  if (!requireService('ssh', t)) return;
  const query = ssh(sshService.gpuUser, 'nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits');
  assert.equal(query.status, 0, query.stderr);
  const line = `${fakeGpus.name}, ${fakeGpus.memoryTotalMiB}`;
  assert.equal(query.stdout, `${line}\n`.repeat(fakeGpus.count));
  const list = ssh(sshService.gpuUser, 'nvidia-smi -L');
  assert.match(list.stdout, /^GPU 0: NVIDIA A100-SXM4-80GB \(UUID: GPU-[0-9a-f-]{36}\)\nGPU 1: /);
  assert.notEqual(ssh(sshService.user, 'command -v nvidia-smi').status, 0);
});

test('slurm: srun through ssh runs on the node and forwards stdin and stdout', (t) => {
  if (!requireService('ssh', t) || !requireService('slurm', t)) return;
  const host = ssh(sshService.user, 'srun -N1 hostname');
  assert.equal(host.status, 0, host.stderr);
  assert.equal(host.stdout.trim(), slurmService.nodeName);
  const echo = ssh(sshService.user, 'srun -N1 cat', { input: 'frame-1\nframe-2\n' });
  assert.equal(echo.stdout, 'frame-1\nframe-2\n');
  const gpus = ssh(
    sshService.gpuUser,
    `srun -N1 --gres=gpu:${slurmService.gpuType}:${slurmService.gpus} sh -c 'echo $CUDA_VISIBLE_DEVICES'`,
  );
  assert.equal(gpus.stdout.trim(), '0,1', gpus.stderr);
});

test('slurm-pair: a two-node job through ssh runs one task on each of its two nodes', (t) => {
  if (!requireService('ssh', t) || !requireService('slurm-pair', t)) return;
  const out = ssh(
    sshService.user,
    `SLURM_CONF=${slurmPairService.conf} srun -N2 --ntasks-per-node=1 sh -c 'echo $SLURMD_NODENAME'`,
  );
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(out.stdout.trim().split('\n').sort(), [...slurmPairService.nodes]);
});

test('keyring: @napi-rs/keyring stores, reads and deletes a secret', async (t) => {
  if (!requireService('keyring', t)) return;
  const { Entry } = await import('@napi-rs/keyring');
  const entry = new Entry('orrery-services-test', `probe-${process.pid}`);
  entry.setPassword('s3cret');
  assert.equal(entry.getPassword(), 's3cret');
  assert.equal(entry.deletePassword(), true);
  assert.equal(entry.getPassword(), null);
});
