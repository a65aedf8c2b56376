import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitsOf } from '../../orchestrator/core/resources.ts';
import { EXCLUSIVE_NODE_LABEL } from '../../orchestrator/core/node-labels.ts';
import { ClusterScheduler } from '../../orchestrator/scheduler/cluster-scheduler.ts';

/** A job-style backend's virtual node takes only work that names its backend. */
test('an exclusive node takes only work that names its backend; other work waits or is infeasible', () => {
  const s = new ClusterScheduler({ infeasibleGraceMs: 1000 });
  s.handle({
    type: 'node-added',
    now: 0,
    node: {
      nodeId: 'sm-1',
      backend: 'sm',
      total: unitsOf({ CPU: 8, GPU: 1 }),
      labels: { [EXCLUSIVE_NODE_LABEL]: 'true' },
    },
  });
  const plain = s.handle({
    type: 'queued',
    now: 0,
    request: { requestId: 'f', resources: unitsOf({ CPU: 1 }), strategy: 'DEFAULT' },
  });
  assert.ok(!plain.some((d) => d.type === 'assign'), 'a plain function task is not placed on the SageMaker node');
  assert.ok(
    plain.some((d) => d.type === 'infeasible'),
    JSON.stringify(plain),
  );
  const named = s.handle({
    type: 'queued',
    now: 0,
    request: { requestId: 'c', resources: unitsOf({ CPU: 1, GPU: 1 }), strategy: 'DEFAULT', backend: 'sm' },
  });
  assert.ok(
    named.some((d) => d.type === 'assign' && d.nodeId === 'sm-1'),
    JSON.stringify(named),
  );
  s.handle({
    type: 'elastic-shapes',
    now: 0,
    backend: 'sm2',
    shapes: [{ resources: unitsOf({ CPU: 4 }), labels: { [EXCLUSIVE_NODE_LABEL]: 'true' } }],
  });
  const other = s.handle({
    type: 'queued',
    now: 0,
    request: { requestId: 'g', resources: unitsOf({ CPU: 2 }), strategy: 'DEFAULT' },
  });
  assert.ok(
    other.some((d) => d.type === 'infeasible'),
    'an exclusive elastic shape does not make plain work feasible',
  );
});
