/**
 * How the local elastic and slurm backends count the demand they may serve (core/shape-fit.ts):
 * resources, and label selectors in all four forms. A fake BackendHost records the nodes
 * started; the slurm backend's login host refuses connections, so only its request count moves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  AgentSpec,
  AgentStream,
  BackendHost,
  LocalAgentSpec,
  LocalNode,
  ResourceDemand,
} from '../../backends/types.ts';
import { ElasticLocalBackend } from '../../backends/local/elastic-local-backend.ts';
import { SlurmBackend } from '../../backends/slurm/slurm-backend.ts';
import { validateSlurmConfig } from '../../backends/slurm/config.ts';

class FakeHost implements BackendHost {
  readonly agentEntry = '/dev/null';
  readonly agentExecArgv: readonly string[] = [];
  readonly workerSocket = '/tmp/none';
  readonly started: LocalAgentSpec[] = [];
  readonly lines: string[] = [];
  attach(_s: AgentStream, _spec: AgentSpec): Promise<void> {
    return Promise.reject(new Error('no agents here'));
  }
  log(line: string): void {
    this.lines.push(line);
  }
  retire(): void {}
  async startLocalAgent(spec: LocalAgentSpec): Promise<LocalNode> {
    this.started.push(spec);
    return { nodeId: `n${this.started.length}`, exited: new Promise(() => {}), kill: async () => {} };
  }
}

const settle = () => new Promise((r) => setImmediate(r));
const demand = (
  labelSelector: Record<string, string> | undefined,
  resources: Record<string, number> = { CPU: 1 },
): ResourceDemand => ({ resources, labelSelector, backend: undefined, count: 1 });

/** Demand a node labelled { zone: 'a', accelerator: 'A100' } can run (true) or not (false). */
const SELECTORS: [Record<string, string>, boolean][] = [
  [{ zone: 'a' }, true],
  [{ zone: 'b' }, false],
  [{ zone: '!b' }, true],
  [{ zone: '!a' }, false],
  [{ accelerator: 'in(H100,A100)' }, true],
  [{ accelerator: 'in(H100,V100)' }, false],
  [{ accelerator: '!in(H100,V100)' }, true],
  [{ accelerator: '!in(A100)' }, false],
];

test('the local elastic backend starts nodes only for demand its node labels satisfy', async () => {
  for (const [selector, fits] of SELECTORS) {
    const host = new FakeHost();
    const b = new ElasticLocalBackend({
      name: 'burst',
      node: { numCpus: 2, labels: { zone: 'a', accelerator: 'A100' } },
      maxNodes: 2,
      idleTimeoutMs: 60_000,
    });
    await b.start(host);
    b.scale([demand(selector)], []);
    await settle();
    assert.equal(host.started.length, fits ? 1 : 0, JSON.stringify(selector));
  }
  const host = new FakeHost();
  const b = new ElasticLocalBackend({ name: 'burst', node: { numCpus: 2 }, maxNodes: 2, idleTimeoutMs: 60_000 });
  await b.start(host);
  b.scale([demand(undefined, { CPU: 4 }), demand(undefined, { GPU: 1 })], []);
  await settle();
  assert.equal(host.started.length, 0, 'neither 4 CPUs nor a GPU fits a 2-CPU node');
});

test('the slurm backend requests allocations only for demand its shape satisfies, labels included', async () => {
  for (const [selector, fits] of SELECTORS) {
    const host = new FakeHost();
    const b = new SlurmBackend(
      validateSlurmConfig({
        name: 'hpc',
        kind: 'slurm',
        loginHost: 'nobody@127.0.0.1:1',
        cpusPerNode: 4,
        labels: { zone: 'a' },
        gres: 'gpu:A100:1',
        maxNodes: 2,
      }),
    );
    await assert.rejects(b.start(host));
    b.scale([demand(selector)], []);
    await settle();
    assert.equal(b.requested, fits ? 1 : 0, JSON.stringify(selector));
    await b.shutdown();
  }
});

test('a STRICT_SPREAD group (a gang) gets a node per bundle even where one node could hold them all', async () => {
  const spread = (n: number): ResourceDemand[] =>
    Array.from({ length: n }, () => ({ ...demand(undefined), backend: 'burst', separateNodes: true }));
  const host = new FakeHost();
  const b = new ElasticLocalBackend({ name: 'burst', node: { numCpus: 4 }, maxNodes: 3, idleTimeoutMs: 60_000 });
  await b.start(host);
  b.scale(spread(2), []);
  await settle();
  assert.equal(host.started.length, 2, 'two 1-CPU bundles on two 4-CPU nodes');
  const slurm = new SlurmBackend(
    validateSlurmConfig({ name: 'hpc', kind: 'slurm', loginHost: 'nobody@127.0.0.1:1', cpusPerNode: 4, maxNodes: 2 }),
  );
  await assert.rejects(slurm.start(new FakeHost()));
  slurm.scale([...spread(3), demand(undefined), demand(undefined)], []);
  await settle();
  assert.equal(slurm.requested, 2, 'three separate nodes wanted, capped by maxNodes 2');
  await slurm.shutdown();
});
