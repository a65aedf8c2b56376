/**
 * Usage history from a remote node: an ssh backend on the real sshd (user orrery-gpu, whose PATH
 * has the stand-in nvidia-smi of test/services/fake-nvidia-smi: two A100s, idle) joins a head
 * service; its agent, started over SSH, samples the host and sends `usage` messages through the
 * SSH channel, and its workers' output reaches the head's node logs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { init, shutdown, remote, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { headApi, tempDir, until } from './helpers.ts';
import { fakeGpus, requireService, sshService } from '../services/env.ts';

process.env.ORRERY_HOME = tempDir('monitoring-ssh');
const sshUp = requireService('ssh');
let service: HeadService | undefined;

before(async () => {
  if (!sshUp) return;
  service = await HeadService.start({
    port: 0,
    numCpus: 1,
    session: 'monitoring-ssh',
    backends: [
      {
        name: 'gpuhost',
        kind: 'ssh',
        hosts: [`${sshService.gpuUser}@${sshService.host}:${sshService.port}`],
        identityFile: sshService.keyPath,
        knownHostsFile: sshService.knownHostsPath,
      },
    ],
    log: () => {},
  });
  await init({ address: service.info.address, token: service.info.token, logToDriver: false });
});

after(async () => {
  await shutdown();
  await service?.stop();
});

test('a node over SSH reports CPU, memory and its GPUs (nvidia-smi on the host) into the usage history', async (t) => {
  if (!requireService('ssh', t)) return;
  const head = { url: service!.info.url, token: service!.info.token };
  const node = ((await headApi(head, 'GET', '/api/nodes')).json as { nodeId: string; backend: string }[]).find(
    (n) => n.backend === 'gpuhost',
  )!;
  const samples = await until(
    'two usage samples of the ssh node',
    async () => {
      const r = await headApi(head, 'GET', `/api/usage?node=${node.nodeId}`);
      const s = (r.json.samples as { gpus?: number }[]).filter((x) => x.gpus !== undefined);
      return s.length >= 2 && s;
    },
    30_000,
  );
  const s = samples.at(-1) as Record<string, number>;
  assert.equal(s.gpus, fakeGpus.count);
  assert.equal(s.gpuUtil, 0);
  assert.equal(s.gpuMemUsedMb, 0);
  assert.equal(s.gpuMemTotalMb, fakeGpus.count * fakeGpus.memoryTotalMiB);
  assert.ok(s.cpu! >= 0 && s.cpu! <= 1);
  assert.ok(s.memTotalBytes! > 0);

  const hello = remote({ name: 'sshHello', backend: 'gpuhost' }, () => {
    console.log('hello from the ssh node');
    return 1;
  });
  assert.equal(await get(hello.remote()), 1);
  await until('the ssh node line on the head', async () => {
    const r = await headApi(head, 'GET', `/api/node-logs/${node.nodeId}`);
    return (r.json.lines as { text: string }[]).some((l) => l.text === 'hello from the ssh node');
  });
});
