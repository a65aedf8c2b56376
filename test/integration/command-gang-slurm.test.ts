/**
 * A `command({ nodes: 2 })` gang on the test Slurm (one Slurm node with 2 CPUs): the gang's
 * STRICT_SPREAD group makes the slurm backend start one allocation per rank (two 1-CPU jobs,
 * two Orrery nodes); both land on the one Slurm node here. One multi-node allocation
 * (`--nodes=N`) is not implemented: see README "Multi-node jobs".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { init, shutdown, command, get, state, CommandFailedError } from 'orrery';
import { LocalCluster } from 'orrery/testing';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { requireService, slurmService, sshService } from '../services/env.ts';

let cluster: LocalCluster;

before(async () => {
  requireService('slurm');
  requireService('ssh');
  cluster = await LocalCluster.start({ log: () => {} });
  await cluster.addNode({ numCpus: 1 });
  await cluster.head.addBackend(
    await createBackend({
      kind: 'slurm',
      name: 'gang-hpc',
      loginHost: `${sshService.user}@${sshService.host}:${sshService.port}`,
      identityFile: sshService.keyPath,
      knownHostsFile: sshService.knownHostsPath,
      partition: slurmService.partition,
      cpusPerNode: 1,
      maxNodes: 2,
      idleTimeoutS: 20,
    }),
  );
  await init({ cluster, logToDriver: false });
});
after(async () => {
  await shutdown();
  await cluster.shutdown();
});

test('a 2-node gang on slurm: one allocation per rank, RANK/WORLD_SIZE right, MASTER_ADDR the compute node', async () => {
  const gang = command({
    name: 'slurm-pair',
    nodes: 2,
    backend: 'gang-hpc',
    ranks: 'all',
    placementTimeoutMs: 240_000,
  });
  const r = await get(
    gang.remote({ argv: ['bash', '-c', 'echo "$RANK $WORLD_SIZE $MASTER_ADDR $MASTER_PORT $SLURM_JOB_ID"'] }),
  );
  const [r0, r1] = r.ranks!.map((x) => x.stdout.trim().split(' '));
  assert.deepEqual(r0!.slice(0, 2), ['0', '2']);
  assert.deepEqual(r1!.slice(0, 2), ['1', '2']);
  assert.equal(r0![2], hostname(), "MASTER_ADDR is the host name of rank 0's compute node");
  assert.deepEqual(r0!.slice(2, 4), r1!.slice(2, 4));
  assert.notEqual(r0![4], r1![4], 'each rank runs in an allocation of its own');
  const rows = await state.listTasks();
  const nodeOf = (rank: number) => rows.find((t) => t.name === `slurm-pair[${rank}]`)?.nodeId;
  assert.notEqual(nodeOf(0), nodeOf(1));
});

test('on slurm too, rank 1 failing stops rank 0 and fails the gang with its error', async () => {
  const script = 'if [ "$RANK" = 1 ]; then exit 3; fi; exec sleep 300';
  const t0 = Date.now();
  await assert.rejects(
    get(
      command({ nodes: 2, backend: 'gang-hpc', placementTimeoutMs: 240_000 }).remote({ argv: ['bash', '-c', script] }),
    ),
    (e: unknown) => {
      assert.ok(e instanceof CommandFailedError, String(e));
      assert.equal(e.rank, 1);
      assert.equal(e.exitCode, 3);
      return true;
    },
  );
  assert.ok(Date.now() - t0 < 120_000);
});
