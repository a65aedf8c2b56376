/** The head's usage history (bounded, minute averages past the hour) and the agent's nvidia-smi parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COARSE_MS, FINE_SAMPLES, UsageHistory } from '../../orchestrator/head/usage-history.ts';
import { UsageMonitor, type MonitoredNode } from '../../orchestrator/head/usage-monitor.ts';
import { parseGpuUsage } from '../../orchestrator/agent/usage-sampler.ts';
import type { NodeUsageSample } from '../../orchestrator/protocol/state-rows.ts';

test('the last hour is kept sample by sample, older samples as minute averages', () => {
  const h = new UsageHistory();
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % COARSE_MS);
  const n = FINE_SAMPLES + 90; // 90 samples (3 minutes at 2 s) past the fine window
  for (let i = 0; i < n; i++) h.add([{ nodeId: 'a', t: t0 + i * 2000, cpu: i < 30 ? 0.25 : 0.75 }]);
  const all = h.since(0, 'a');
  assert.equal(all.filter((s) => s.t % COARSE_MS === 0 && s.t < t0 + 90 * 2000).length, 3, 'three minute averages');
  assert.equal(all.length, 3 + FINE_SAMPLES);
  assert.deepEqual(
    all.slice(0, 3).map((s) => s.cpu),
    [0.25, 0.75, 0.75],
  );
  assert.equal(all[3]!.t, t0 + 90 * 2000, 'then every sample of the last hour');
  assert.deepEqual(h.since(t0 + (n - 2) * 2000), all.slice(-2));
  assert.equal(h.latest()[0]!.t, t0 + (n - 1) * 2000);
});

test('the monitor merges the agent sample with QPU slots and queue positions, for live nodes only', () => {
  const published: NodeUsageSample[][] = [];
  let live: MonitoredNode[] = [
    { nodeId: 'cpu', resources: { CPU: 2 }, available: { CPU: 1 } },
    { nodeId: 'qpu', resources: { QPU: 5 }, available: { QPU: 2 } },
  ];
  const m = new UsageMonitor({
    liveNodes: () => live,
    queuePositions: () => new Map([['qpu', [0, 7, 3]]]),
    publish: (s) => void published.push([...s]),
  });
  m.report(
    'cpu',
    {
      type: 'usage',
      t: 1,
      cpu: 0.5,
      memUsedBytes: 10,
      memTotalBytes: 20,
      gpus: [
        { util: 10, memUsedMb: 1, memTotalMb: 8 },
        { util: 30, memUsedMb: 3, memTotalMb: 8 },
      ],
    },
    1000,
  );
  const s = m.sample(2000);
  assert.deepEqual(s, [
    {
      nodeId: 'cpu',
      t: 2000,
      cpu: 0.5,
      memUsedBytes: 10,
      memTotalBytes: 20,
      gpus: 2,
      gpuUtil: 20,
      gpuMemUsedMb: 4,
      gpuMemTotalMb: 16,
    },
    { nodeId: 'qpu', t: 2000, qpuTotal: 5, qpuUsed: 3, queued: 2, queuePosition: 3 },
  ]);
  assert.deepEqual(published, [s]);
  // A stale agent sample is not reused; a node that left is not sampled.
  live = [live[0]!];
  assert.deepEqual(m.sample(60_000), []);
  m.tick(60_500);
  assert.equal(published.length, 1, 'the tick waits out the 2 s interval (and sends nothing for no samples)');
});

test('nvidia-smi CSV rows are parsed; [N/A] rows are left out', () => {
  assert.deepEqual(parseGpuUsage('37, 20480, 81559\n63, 40960, 81559\n'), [
    { util: 37, memUsedMb: 20480, memTotalMb: 81559 },
    { util: 63, memUsedMb: 40960, memTotalMb: 81559 },
  ]);
  assert.deepEqual(parseGpuUsage('[N/A], 0, 81559\n'), []);
  assert.deepEqual(parseGpuUsage(''), []);
});

test('a snapshot of many nodes is thinned to about the budget, every node keeping its newest sample', () => {
  const h = new UsageHistory();
  for (let i = 0; i < 100; i++)
    for (let n = 0; n < 10; n++) h.add([{ nodeId: `n${n}`, t: 1_000_000 + i * 2000, cpu: i / 100 }]);
  assert.equal(h.thinned(0, 5000).length, 1000, 'under the budget: everything');
  const thin = h.thinned(0, 250);
  assert.ok(thin.length <= 250 + 10 && thin.length >= 200, `${thin.length} samples`);
  for (let n = 0; n < 10; n++)
    assert.equal(thin.filter((s) => s.nodeId === `n${n}`).at(-1)?.t, 1_000_000 + 99 * 2000, `n${n} keeps its newest`);
  assert.deepEqual(
    thin.map((s) => s.t),
    [...thin.map((s) => s.t)].sort((a, b) => a - b),
  );
});
