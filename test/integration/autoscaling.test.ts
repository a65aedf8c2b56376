import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { init, shutdown, remote, get, state, getRuntimeContext } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { until } from './helpers.ts';

let cluster: LocalCluster;

before(async () => {
  cluster = await LocalCluster.start({ infeasibleGraceMs: 1000 });
  await cluster.addNode({ numCpus: 1 });
  await init({ cluster, logToDriver: false });
});
after(async () => {
  await shutdown();
  await cluster.shutdown();
});

test('demand an elastic backend can serve starts nodes (up to maxNodes), which are retired when idle', async () => {
  const elastic = await cluster.addElasticBackend({
    name: 'burst',
    node: { numCpus: 1, resources: { burst: 1 } },
    maxNodes: 2,
    idleTimeoutMs: 1500,
  });
  assert.equal(elastic.size, 0);
  const work = remote({ resources: { burst: 1 } }, async (ms: number) => {
    const { getRuntimeContext } = await import('orrery-compute');
    await new Promise((r) => setTimeout(r, ms));
    return getRuntimeContext().nodeId;
  });
  const nodesUsed = new Set(await get(Array.from({ length: 6 }, () => work.remote(300))));
  assert.equal(nodesUsed.size, 2, 'six one-slot tasks spread over the two nodes the backend started');
  assert.equal(elastic.started, 2, 'never more than maxNodes');
  await until('idle nodes to be retired', async () => elastic.size === 0, 15_000);
  const burstNodes = await state.listNodes({ filters: [['backend', '=', 'burst']] });
  assert.equal(burstNodes.length, 2);
  assert.ok(
    burstNodes.every((n) => n.state === 'DEAD' && n.deathReason === 'retired (idle)'),
    JSON.stringify(burstNodes),
  );
  assert.ok(getRuntimeContext().jobId);
});

test('a request no elastic shape fits is still unschedulable', async () => {
  const big = remote({ resources: { burst: 5 } }, () => 1);
  await assert.rejects(get(big.remote()), { name: 'TaskUnschedulableError' });
});
