/**
 * `command({ nodes: 2 })` gangs on real Slurm. On the two-node test cluster (start.sh step
 * slurm-pair: two slurmd on this machine, chosen with `slurmConf`) the gang is one
 * `salloc --nodes=2` job with an srun step per node. On the one-node cluster, which cannot hold a
 * 2-node job, the backend falls back to one allocation per rank (both on the one Slurm node).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { execFileSync } from 'node:child_process';
import { init, shutdown, command, get, state, CommandFailedError } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { until } from './helpers.ts';
import { requireService, slurmPairService, slurmService, sshService } from '../services/env.ts';

/** Job names on the two-node cluster ('' when none). */
const pairJobs = () =>
  execFileSync('squeue', ['-h', '-o', '%j'], {
    encoding: 'utf8',
    env: { ...process.env, SLURM_CONF: slurmPairService.conf },
  }).trim();

const PRINT = 'echo "$RANK $WORLD_SIZE $MASTER_ADDR $MASTER_PORT $SLURM_JOB_ID $SLURMD_NODENAME"';

/** A LocalCluster (one local node for the gang's coordinator) with a slurm backend `name`. */
async function clusterWith(name: string, extra: Record<string, unknown>): Promise<LocalCluster> {
  const cluster = await LocalCluster.start({ log: () => {} });
  await cluster.addNode({ numCpus: 1 });
  await cluster.head.addBackend(
    await createBackend({
      kind: 'slurm',
      name,
      loginHost: `${sshService.user}@${sshService.host}:${sshService.port}`,
      identityFile: sshService.keyPath,
      knownHostsFile: sshService.knownHostsPath,
      cpusPerNode: 1,
      maxNodes: 2,
      idleTimeoutS: 20,
      ...extra,
    }),
  );
  await init({ cluster, logToDriver: false });
  return cluster;
}

/** Each rank's printed fields, by rank. */
async function runPair(backend: string, name: string): Promise<string[][]> {
  const gang = command({ name, nodes: 2, backend, ranks: 'all', placementTimeoutMs: 240_000 });
  const r = await get(gang.remote({ argv: ['bash', '-c', PRINT] }));
  return r.ranks!.map((x) => x.stdout.trim().split(' '));
}

describe('gang on the two-node Slurm cluster: one allocation, a step per node', () => {
  let cluster: LocalCluster;
  before(async () => {
    requireService('slurm-pair');
    requireService('ssh');
    cluster = await clusterWith('pair-hpc', {
      slurmConf: slurmPairService.conf,
      partition: slurmPairService.partition,
      idleTimeoutS: 2,
    });
  });
  after(async () => {
    await shutdown();
    await cluster?.shutdown();
  });

  test('both ranks run in one job, one on each Slurm node, with RANK and WORLD_SIZE', async () => {
    const [r0, r1] = await runPair('pair-hpc', 'pair-job');
    assert.deepEqual(r0!.slice(0, 2), ['0', '2']);
    assert.deepEqual(r1!.slice(0, 2), ['1', '2']);
    assert.equal(r0![2], hostname(), "MASTER_ADDR is the host name of rank 0's node");
    assert.deepEqual(r0!.slice(2, 4), r1!.slice(2, 4));
    assert.equal(r0![4], r1![4], 'one Slurm job holds both ranks');
    assert.deepEqual(new Set([r0![5], r1![5]]), new Set(slurmPairService.nodes), 'one rank on each Slurm node');
  });

  test('rank 1 failing stops rank 0; the job ends once its nodes are idle, both retired', async () => {
    await assert.rejects(
      get(
        command({ nodes: 2, backend: 'pair-hpc', placementTimeoutMs: 240_000 }).remote({
          argv: ['bash', '-c', 'if [ "$RANK" = 1 ]; then exit 3; fi; exec sleep 300'],
        }),
      ),
      (e: unknown) => {
        assert.ok(e instanceof CommandFailedError, String(e));
        assert.equal(e.rank, 1);
        return true;
      },
    );
    await until("the gang's job to end", () => pairJobs() === '', 30_000);
    const gone = (await state.listNodes()).filter((n) => n.backend === 'pair-hpc');
    assert.ok(gone.length >= 2);
    for (const n of gone) assert.equal(n.deathReason, 'retired (idle)', `node ${n.nodeId}: ${n.deathReason}`);
  });
});

describe('gang on the one-node Slurm cluster: one allocation per rank', () => {
  let cluster: LocalCluster;
  before(async () => {
    requireService('slurm');
    requireService('ssh');
    cluster = await clusterWith('gang-hpc', { partition: slurmService.partition });
  });
  after(async () => {
    await shutdown();
    await cluster?.shutdown();
  });

  test('a 2-node gang still runs: two jobs, RANK/WORLD_SIZE right, MASTER_ADDR the compute node', async () => {
    const [r0, r1] = await runPair('gang-hpc', 'slurm-pair');
    assert.deepEqual(r0!.slice(0, 2), ['0', '2']);
    assert.deepEqual(r1!.slice(0, 2), ['1', '2']);
    assert.equal(r0![2], hostname());
    assert.deepEqual(r0!.slice(2, 4), r1!.slice(2, 4));
    assert.notEqual(r0![4], r1![4], 'each rank runs in an allocation of its own');
    const rows = await state.listTasks();
    const nodeOf = (rank: number) => rows.find((t) => t.name === `slurm-pair[${rank}]`)?.nodeId;
    assert.notEqual(nodeOf(0), nodeOf(1));
  });

  test('on slurm too, rank 1 failing stops rank 0 and fails the gang with its error', async () => {
    await assert.rejects(
      get(
        command({ nodes: 2, backend: 'gang-hpc', placementTimeoutMs: 240_000 }).remote({
          argv: ['bash', '-c', 'if [ "$RANK" = 1 ]; then exit 3; fi; exec sleep 300'],
        }),
      ),
      (e: unknown) => {
        assert.ok(e instanceof CommandFailedError, String(e));
        assert.equal(e.rank, 1);
        assert.equal(e.exitCode, 3);
        return true;
      },
    );
  });
});

after(() => {
  assert.equal(pairJobs(), '', 'no job is left on the two-node cluster');
});
