/**
 * `command({ nodes: N })` gangs with real processes: on a LocalCluster of two nodes, and on the
 * ssh backend with two hosts that are two names of the test sshd (127.0.0.1 and localhost).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init,
  shutdown,
  command,
  cancel,
  get,
  state,
  CommandFailedError,
  GangPlacementError,
  TaskCancelledError,
} from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { Head } from '../../orchestrator/head/head.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { execFileSync } from 'node:child_process';
import { tempDir, until } from './helpers.ts';
import { requireService, sshService } from '../services/env.ts';

const PRINT_ENV = 'echo "$RANK $WORLD_SIZE $NODE_RANK $LOCAL_RANK $MASTER_ADDR $MASTER_PORT"';

/** Rank lines as `[RANK, WORLD_SIZE, NODE_RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT]`. */
const fields = (stdout: string) => stdout.trim().split(' ');

/** The groups the gangs made are all removed. */
async function noGroupLeft(): Promise<void> {
  const live = (await state.listPlacementGroups()).filter((g) => g.state !== 'REMOVED');
  assert.deepEqual(
    live.map((g) => g.name),
    [],
  );
}

describe('gang on a LocalCluster of two nodes', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    await Promise.all([cluster.addNode({ numCpus: 1 }), cluster.addNode({ numCpus: 1 })]);
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('two ranks on two nodes get RANK, WORLD_SIZE and one MASTER_ADDR/PORT', async () => {
    const r = await get(
      command({ nodes: 2, ranks: 'all', outputs: ['env.txt'] }).remote({
        argv: ['bash', '-c', `${PRINT_ENV} | tee env.txt`],
      }),
    );
    assert.equal(r.ranks?.length, 2);
    const [r0, r1] = r.ranks!.map((x) => fields(x.stdout));
    assert.deepEqual(r0!.slice(0, 4), ['0', '2', '0', '0']);
    assert.deepEqual(r1!.slice(0, 4), ['1', '2', '1', '0']);
    assert.equal(r0![4], r1![4]);
    assert.equal(r0![5], r1![5]);
    assert.match(r0![5]!, /^\d+$/);
    assert.equal(new TextDecoder().decode(r.ranks![1]!.files['env.txt']), r.ranks![1]!.stdout);
    assert.equal(r.stdout, r.ranks![0]!.stdout);
    await noGroupLeft();
  });

  test('a gang on an elastic backend gets a node per rank, even where one node could hold both', async () => {
    await cluster.addElasticBackend({ name: 'burst', node: { numCpus: 2 }, maxNodes: 2, idleTimeoutMs: 60_000 });
    const r = await get(
      command({ name: 'burst-pair', nodes: 2, backend: 'burst', ranks: 'all' }).remote({
        argv: ['bash', '-c', PRINT_ENV],
      }),
    );
    assert.deepEqual(
      r.ranks!.map((x) => fields(x.stdout).slice(0, 2)),
      [
        ['0', '2'],
        ['1', '2'],
      ],
    );
    const rows = await state.listTasks();
    const nodeOf = (rank: number) => rows.find((t) => t.name === `burst-pair[${rank}]`)?.nodeId;
    assert.notEqual(nodeOf(0), nodeOf(1));
    const burst = (await state.listNodes()).filter((n) => n.backend === 'burst').map((n) => n.nodeId);
    assert.deepEqual(new Set([nodeOf(0), nodeOf(1)]), new Set(burst));
    await noGroupLeft();
  });

  test('cancelling the gang stops every rank and removes its group', async () => {
    const tag = `${process.pid}${Date.now() % 100000}`;
    const sleeping = () => {
      try {
        return execFileSync('pgrep', ['-f', `sleep 700.${tag}`], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    };
    const ref = command({ nodes: 2, backend: 'local' }).remote({ argv: ['sleep', `700.${tag}`] });
    await until('both ranks to run', () => sleeping().length === 2, 20_000);
    await cancel(ref);
    await assert.rejects(get(ref), TaskCancelledError);
    await until('both ranks to be gone', () => sleeping().length === 0, 10_000);
    await until('the group to be removed', async () => {
      const live = (await state.listPlacementGroups()).filter((g) => g.state !== 'REMOVED');
      return live.length === 0;
    });
  });

  test('a gang of three on two nodes fails at once with GangPlacementError', async () => {
    const t0 = Date.now();
    await assert.rejects(get(command({ nodes: 3, backend: 'local' }).remote({ argv: ['true'] })), (e: unknown) => {
      assert.ok(e instanceof GangPlacementError, String(e));
      assert.equal(e.infeasible, true);
      assert.match(e.message, /3 more distinct node\(s\).*only 2 can hold one/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000, 'an infeasible gang fails at once, not after its placement timeout');
    await noGroupLeft();
  });
});

const sshUp = requireService('ssh');

/** A known_hosts file that knows the test sshd under both of its names. */
function knownHostsForBothNames(): string {
  const line = readFileSync(sshService.knownHostsPath, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`[${sshService.host}]:${sshService.port} `));
  assert.ok(line, `${sshService.knownHostsPath} has no line for [${sshService.host}]:${sshService.port}`);
  const key = line.slice(line.indexOf(' ') + 1);
  const file = join(tempDir('gang-known-hosts'), 'known_hosts');
  writeFileSync(file, `${line}\n[localhost]:${sshService.port} ${key}\n`);
  return file;
}

/** Tasks of a gang's ranks, by rank: their node ids (the State API keeps them after the run). */
async function rankNodes(name: string, size: number): Promise<string[]> {
  const rows = await state.listTasks();
  return Array.from({ length: size }, (_, i) => rows.filter((r) => r.name === `${name}[${i}]`).at(-1)?.nodeId ?? '');
}

describe('gang on the ssh backend with two hosts', { skip: !sshUp && 'the test sshd is not running' }, () => {
  let head: Head;
  const hosts = ['127.0.0.1', 'localhost'].map((h) => `${sshService.user}@${h}:${sshService.port}`);

  before(async () => {
    head = new Head({ log: () => {} });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    await head.addBackend(
      createSshBackend({
        name: 'pair',
        kind: 'ssh',
        hosts,
        identityFile: sshService.keyPath,
        knownHostsFile: knownHostsForBothNames(),
        numCpus: 1,
      }),
    );
    await init({ cluster: { head }, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
  });

  test('each rank runs on its own host with RANK, WORLD_SIZE and rank 0 as MASTER_ADDR', async (t) => {
    const gang = command({ name: 'env-pair', nodes: 2, ranks: 'all', backend: 'pair' });
    const cold = performance.now();
    const r = await get(gang.remote({ argv: ['bash', '-c', PRINT_ENV] }));
    const coldMs = performance.now() - cold;
    const [r0, r1] = r.ranks!.map((x) => fields(x.stdout));
    assert.deepEqual(r0!.slice(0, 4), ['0', '2', '0', '0']);
    assert.deepEqual(r1!.slice(0, 4), ['1', '2', '1', '0']);
    assert.deepEqual(r0!.slice(4), r1!.slice(4), 'both ranks see the same master');
    const nodeIds = await rankNodes('env-pair', 2);
    const pairNodes = (await state.listNodes()).filter((n) => n.backend === 'pair' && n.state === 'ALIVE');
    assert.equal(new Set(nodeIds).size, 2, `ranks on distinct nodes: ${nodeIds}`);
    for (const id of nodeIds)
      assert.ok(
        pairNodes.some((n) => n.nodeId === id),
        `rank node ${id} is a host of pair`,
      );
    const rank0Host = pairNodes.find((n) => n.nodeId === nodeIds[0])!.labels['orrery.io/address'];
    assert.equal(r0![4], rank0Host, "MASTER_ADDR is the address of rank 0's host");
    assert.ok(hosts.some((h) => h.includes(`@${rank0Host}:`)));
    await noGroupLeft();

    // Start latency: a gang of `true` against one command of `true` on the same backend (warm).
    const one = command({ name: 'one', backend: 'pair' });
    const pair = command({ name: 'pair-true', nodes: 2, backend: 'pair' });
    const time = async (f: () => Promise<unknown>) => {
      const t0 = performance.now();
      await f();
      return performance.now() - t0;
    };
    const singles: number[] = [];
    const gangs: number[] = [];
    for (let i = 0; i < 5; i++) {
      singles.push(await time(() => get(one.remote({ argv: ['true'] }))));
      gangs.push(await time(() => get(pair.remote({ argv: ['true'] }))));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
    t.diagnostic(
      `ssh 2-node gang: first ${coldMs.toFixed(0)} ms; of 'true', warm: median ${median(gangs)} ms; one command: median ${median(singles)} ms`,
    );
  });

  test("rank 1 failing stops rank 0 and fails the gang with rank 1's CommandFailedError", async (t) => {
    const tag = `${process.pid}${Date.now() % 100000}`;
    const script = `if [ "$RANK" = 1 ]; then sleep 1; echo rank one gives up >&2; exit 3; fi; exec sleep 600.${tag}`;
    const t0 = Date.now();
    await assert.rejects(
      get(command({ name: 'fail-pair', nodes: 2, backend: 'pair' }).remote({ argv: ['bash', '-c', script] })),
      (e: unknown) => {
        assert.ok(e instanceof CommandFailedError, String(e));
        assert.equal(e.exitCode, 3);
        assert.equal(e.rank, 1);
        assert.match(e.stderrTail, /rank one gives up/);
        assert.match(e.message, new RegExp(`^rank 1 of 2 \\(node ${e.nodeId}, (127\\.0\\.0\\.1|localhost)\\)`));
        return true;
      },
    );
    const failedMs = Date.now() - t0;
    assert.ok(failedMs < 30_000, `the gang failed after ${failedMs} ms`);
    const sleeping = () => {
      try {
        return execFileSync('pgrep', ['-f', `sleep 600.${tag}`], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    };
    const gone = Date.now();
    await until("rank 0's program to be gone", () => sleeping() === '', 10_000);
    t.diagnostic(
      `ref failed ${failedMs} ms after submit (rank 1 exits after 1 s); rank 0 gone ${Date.now() - gone} ms later`,
    );
    await noGroupLeft();
  });

  test('a gang of three on two hosts fails at once, naming the backend', async () => {
    await assert.rejects(get(command({ nodes: 3, backend: 'pair' }).remote({ argv: ['true'] })), (e: unknown) => {
      assert.ok(e instanceof GangPlacementError, String(e));
      assert.equal(e.infeasible, true);
      assert.match(
        e.message,
        /\(3 nodes of backend pair\) cannot start: .*only 2 can hold one, among the nodes of backend pair/,
      );
      return true;
    });
  });

  test('a gang waiting for busy hosts fails after placementTimeoutMs', async () => {
    const busy = command({ name: 'busy', backend: 'pair' }).remote({ argv: ['sleep', '5'] });
    await assert.rejects(
      get(command({ nodes: 2, backend: 'pair', placementTimeoutMs: 1000 }).remote({ argv: ['true'] })),
      (e: unknown) => {
        assert.ok(e instanceof GangPlacementError, String(e));
        assert.equal(e.infeasible, false);
        assert.match(e.message, /not all free within placementTimeoutMs \(1000 ms\)/);
        return true;
      },
    );
    await get(busy);
  });
});
