/** `command({ nodes })` on the driver's side: the gang options, each rank's environment and the coordinator's plan. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gangPlan, rankEnv, takeGangOptions } from '../../orchestrator/api/command-gang.ts';
import { nodesNeeded } from '../../orchestrator/core/shape-fit.ts';

test('each rank gets the torchrun names: one process per node', () => {
  assert.deepEqual(rankEnv(0, 2), {
    WORLD_SIZE: '2',
    RANK: '0',
    NODE_RANK: '0',
    GROUP_RANK: '0',
    LOCAL_RANK: '0',
    LOCAL_WORLD_SIZE: '1',
  });
  assert.equal(rankEnv(3, 4).RANK, '3');
  assert.equal(rankEnv(3, 4).NODE_RANK, '3');
  assert.equal(rankEnv(3, 4).WORLD_SIZE, '4');
});

test("the plan: one bundle of the command's resources per rank, on its backend, nothing retried", () => {
  const plan = gangPlan(
    'train',
    { nodes: 3, ranks: 'all', masterPort: 29500 },
    { numCpus: 2, numGpus: 1, backend: 'lab', maxRetries: 5, timeoutMs: 1000 },
    { outputs: ['ckpt/*'] },
  );
  assert.equal(plan.size, 3);
  assert.deepEqual(plan.bundle, { CPU: 2, GPU: 1 });
  assert.equal(plan.backend, 'lab');
  assert.deepEqual(plan.rankOptions, { numCpus: 2, numGpus: 1, timeoutMs: 1000 });
  assert.equal(plan.allRanks, true);
  assert.equal(plan.masterPort, 29500);
  assert.equal(plan.placementTimeoutMs, 600_000);
  assert.deepEqual(
    plan.rankEnvs.map((e) => e.RANK),
    ['0', '1', '2'],
  );
  assert.deepEqual(gangPlan('x', { nodes: 2 }, {}, { outputs: [] }).bundle, { CPU: 1 });
  assert.deepEqual(gangPlan('x', { nodes: 2 }, { numCpus: 0 }, { outputs: [] }).bundle, { CPU: 0.0001 });
});

test('gang options are checked, naming the option', () => {
  assert.deepEqual(takeGangOptions({ nodes: 1, outputs: [] }), { gang: {}, rest: { outputs: [] } });
  assert.deepEqual(takeGangOptions({ nodes: 2, numCpus: 1 }).rest, { numCpus: 1 });
  assert.throws(() => takeGangOptions({ nodes: 0 }), /option nodes must be an integer >= 1 \(got 0\)/);
  assert.throws(() => takeGangOptions({ nodes: 1.5 }), /option nodes must be an integer >= 1/);
  assert.throws(() => takeGangOptions({ ranks: 'all' }), /option ranks applies only to a gang; give nodes >= 2/);
  assert.throws(() => takeGangOptions({ nodes: 2, ranks: 'some' as never }), /option ranks must be 'all'/);
  assert.throws(() => takeGangOptions({ nodes: 2, masterPort: 70000 }), /masterPort must be an integer from 1/);
  assert.throws(() => takeGangOptions({ nodes: 2, placementTimeoutMs: -1 }), /placementTimeoutMs must be a finite/);
  assert.throws(
    () => takeGangOptions({ nodes: 2, schedulingStrategy: 'SPREAD' } as never),
    /option schedulingStrategy cannot be combined with nodes/,
  );
});

test('elastic backends count a separate node for each STRICT_SPREAD bundle', () => {
  assert.equal(nodesNeeded([{ count: 4 }], 4), 1);
  assert.equal(nodesNeeded([{ count: 2, separateNodes: true }], 4), 2);
  assert.equal(nodesNeeded([{ count: 3 }, { count: 2, separateNodes: true }], 2), 4);
});
