/**
 * QPU slots and queue positions in the usage history: a head service with an ibm-quantum backend
 * against the IBM Quantum emulator (test/emulators/ibm), whose job waits in the device's queue
 * behind other users' jobs; the head's sample of the backend's node shows the slot in use and
 * the queue position the runner reported, and /metrics the queued task. The API key is in the
 * real OS keychain: run inside test/services/keyring.sh.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Entry } from '@napi-rs/keyring';
import { init, shutdown, circuit, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { startIbmEmulator, type IbmEmulator } from '../emulators/ibm/index.ts';
import { CIRCUITS_PER_JOB_SLOT } from '../../backends/quantum/index.ts';
import { headApi, tempDir, until } from './helpers.ts';
import { requireService } from '../services/env.ts';

process.env.ORRERY_HOME = tempDir('monitoring-quantum');
const keyringUp = requireService('keyring');
const secret = `orrery-test-ibm-${randomBytes(4).toString('hex')}`;
let emu: IbmEmulator | undefined;
let service: HeadService | undefined;

const BELL = `OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
`;

before(async () => {
  if (!keyringUp) return;
  emu = await startIbmEmulator({ queueDelayMs: 7000, runDelayMs: 10 });
  new Entry('orrery', secret).setPassword(emu.apiKey);
  service = await HeadService.start({
    port: 0,
    numCpus: 1,
    session: 'monitoring-quantum',
    backends: [
      {
        name: 'ibm',
        kind: 'ibm-quantum',
        instanceCrn: emu.instanceCrn,
        apiKeySecret: secret,
        url: emu.url,
        iamUrl: emu.iamUrl,
        pollIntervalMs: 200,
        maxConcurrentJobs: 4,
      },
    ],
    log: () => {},
  });
  await init({ address: service.info.address, token: service.info.token, logToDriver: false });
});

after(async () => {
  await shutdown();
  await service?.stop();
  await emu?.close();
  if (keyringUp) new Entry('orrery', secret).deletePassword();
});

test('a queued IBM job shows as a QPU slot in use and a queue position in the usage history and /metrics', async (t) => {
  if (!requireService('keyring', t)) return;
  const head = { url: service!.info.url, token: service!.info.token };
  const node = ((await headApi(head, 'GET', '/api/nodes')).json as { nodeId: string; backend: string }[]).find(
    (n) => n.backend === 'ibm',
  )!;
  const ref = circuit({ backend: 'ibm', shots: 200 }).remote(BELL);
  const task = await until('the task with its queue position', async () => {
    const rows = (await headApi(head, 'GET', '/api/tasks?filter=name=circuit')).json as {
      state: string;
      info?: { queuePosition?: number };
    }[];
    return rows[0]?.state === 'RUNNING' && typeof rows[0].info?.queuePosition === 'number' && rows[0];
  });
  const position = task.info!.queuePosition!;
  assert.ok(position >= 1, `queued behind the device's other jobs: ${position}`);
  const s = await until('a sample with the queued job', async () => {
    const r = await headApi(head, 'GET', `/api/usage?node=${node.nodeId}&since=-3000`);
    return (r.json.samples as Record<string, number>[]).find((x) => x.queued === 1);
  });
  // A batching backend's slots are circuits in flight: CIRCUITS_PER_JOB_SLOT per job it may have on the service.
  assert.equal(s.qpuTotal, 4 * CIRCUITS_PER_JOB_SLOT);
  assert.equal(s.qpuUsed, 1);
  assert.equal(s.queuePosition, position);
  const metrics = await (
    await fetch(`${head.url}/metrics`, { headers: { Authorization: `Bearer ${head.token}` } })
  ).text();
  assert.match(metrics, new RegExp(`^orrery_node_queued_tasks\\{node="${node.nodeId}",backend="ibm"\\} 1$`, 'm'));
  assert.match(metrics, new RegExp(`^orrery_node_qpu_slots_used\\{node="${node.nodeId}",backend="ibm"\\} 1$`, 'm'));
  const r = await get(ref);
  assert.equal(r.shots, 200);
  await until('the slot free again', async () => {
    const u = await headApi(head, 'GET', `/api/usage?node=${node.nodeId}&since=-2500`);
    const last = (u.json.samples as Record<string, number>[]).at(-1);
    return last?.qpuUsed === 0 && last.queued === 0;
  });
});
