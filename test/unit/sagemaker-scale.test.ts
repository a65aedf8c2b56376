/**
 * The sagemaker backend's elasticity against a fake BackendHost that records calls: one virtual
 * node per pending job up to maxConcurrentJobs, the runner module and config in the node's
 * environment, demand it cannot serve ignored, idle nodes retired.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentStream, AgentSpec, BackendHost, LocalAgentSpec, LocalNode } from '../../backends/types.ts';
import { validateSageMakerConfig } from '../../backends/sagemaker/config.ts';
import { COMMAND_RUNNER_ENV, SageMakerBackend } from '../../backends/sagemaker/sagemaker-backend.ts';

class FakeHost implements BackendHost {
  readonly agentEntry = '/dev/null';
  readonly agentExecArgv: readonly string[] = [];
  readonly workerSocket = '/tmp/none';
  readonly started: {
    spec: LocalAgentSpec;
    env: Readonly<Record<string, string>> | undefined;
    key: string | undefined;
  }[] = [];
  readonly retired: string[] = [];
  readonly killed: string[] = [];
  attach(_s: AgentStream, _spec: AgentSpec): Promise<void> {
    return Promise.resolve();
  }
  log(): void {}
  retire(nodeId: string): void {
    this.retired.push(nodeId);
  }
  async startLocalAgent(
    spec: LocalAgentSpec,
    env?: Readonly<Record<string, string>>,
    key?: string,
  ): Promise<LocalNode> {
    const nodeId = `n${this.started.length}`;
    this.started.push({ spec, env, key });
    return { nodeId, exited: new Promise(() => {}), kill: async () => void this.killed.push(nodeId) };
  }
}

const config = validateSageMakerConfig({
  name: 'sm',
  kind: 'sagemaker',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::123456789012:role/R',
  s3Prefix: 's3://bkt/p',
  instanceType: 'ml.g4dn.12xlarge',
  maxConcurrentJobs: 3,
  idleTimeoutS: 30,
});

const settle = () => new Promise((r) => setImmediate(r));

test('pending jobs start one virtual node each, up to maxConcurrentJobs; others are not served', async () => {
  const host = new FakeHost();
  const b = new SageMakerBackend(config);
  await b.start(host);
  b.scale(
    [
      { resources: { CPU: 1, GPU: 8 }, labelSelector: undefined, backend: 'sm', count: 2 },
      { resources: { CPU: 1 }, labelSelector: { accelerator: 'A100' }, backend: 'sm', count: 4 },
    ],
    [],
  );
  await settle();
  assert.equal(host.started.length, 0, 'neither 8 GPUs nor an A100 fits ml.g4dn.12xlarge (4 x T4)');
  b.scale([{ resources: { CPU: 2, GPU: 1 }, labelSelector: { accelerator: 'T4' }, backend: 'sm', count: 5 }], []);
  await settle();
  assert.equal(host.started.length, 3);
  const [first] = host.started;
  assert.deepEqual(first!.spec, {
    numCpus: 48,
    numGpus: 4,
    resources: { memory: 192 * 1024 ** 3 },
    labels: { 'orrery.io/instance-type': 'ml.g4dn.12xlarge', accelerator: 'T4', 'orrery.io/exclusive': 'true' },
  });
  assert.match(first!.env![COMMAND_RUNNER_ENV]!, /^file:.*\/backends\/sagemaker\/training-job\.(ts|js)$/);
  assert.deepEqual(JSON.parse(first!.env!.ORRERY_SAGEMAKER_BACKEND!), config);
  assert.equal(new Set(host.started.map((s) => s.key)).size, 3);
  b.scale([{ resources: { CPU: 1 }, labelSelector: undefined, backend: 'sm', count: 5 }], []);
  await settle();
  assert.equal(host.started.length, 3, 'no room past maxConcurrentJobs');
});

test('nodes idle past idleTimeoutS are retired and ended; shutdown ends the rest', async () => {
  const host = new FakeHost();
  const b = new SageMakerBackend(config);
  await b.start(host);
  b.scale([{ resources: { CPU: 1 }, labelSelector: undefined, backend: 'sm', count: 2 }], []);
  await settle();
  b.scale(
    [],
    [
      { nodeId: 'n0', idleMs: 29_000 },
      { nodeId: 'n1', idleMs: 31_000 },
    ],
  );
  await settle();
  assert.deepEqual(host.retired, ['n1']);
  assert.deepEqual(host.killed, ['n1']);
  await b.shutdown();
  assert.deepEqual(host.killed.sort(), ['n0', 'n1']);
  b.scale([{ resources: { CPU: 1 }, labelSelector: undefined, backend: 'sm', count: 2 }], []);
  await settle();
  assert.equal(host.started.length, 2, 'a stopped backend adds no nodes');
});

test('demand that does not name the backend starts no job: its nodes are exclusive and would never run it', async () => {
  const host = new FakeHost();
  const b = new SageMakerBackend(config);
  await b.start(host);
  b.scale([{ resources: { CPU: 1 }, labelSelector: undefined, backend: undefined, count: 3 }], []);
  await settle();
  assert.equal(host.started.length, 0);
  b.scale(
    [
      { resources: { CPU: 1, GPU: 1 }, labelSelector: { accelerator: 'in(T4,A10G)' }, backend: 'sm', count: 1 },
      { resources: { GPU: 1 }, labelSelector: { accelerator: '!T4' }, backend: 'sm', count: 2 },
    ],
    [],
  );
  await settle();
  assert.equal(host.started.length, 1, 'in(T4,A10G) fits a T4 instance; !T4 does not');
  await b.shutdown();
});
