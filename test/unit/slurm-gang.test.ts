/** The slurm backend's command lines for a gang's one N-node allocation, and its `slurmConf`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlurmBackend } from '../../backends/slurm/slurm-backend.ts';
import { validateSlurmConfig } from '../../backends/slurm/config.ts';

const config = (extra: Record<string, unknown> = {}) =>
  validateSlurmConfig({
    name: 'hpc',
    kind: 'slurm',
    loginHost: 'alice@login:22',
    partition: 'gpu',
    cpusPerNode: 8,
    gres: 'gpu:a100:4',
    ...extra,
  });

test('a gang of 4 is one salloc of 4 nodes, one task per node', () => {
  const b = new SlurmBackend(config());
  assert.equal(
    b.sallocCommand('orrery-hpc-0123456789abcdef', 4),
    'salloc --no-shell --job-name=orrery-hpc-0123456789abcdef --nodes=4 --ntasks=4 --cpus-per-task=8 --ntasks-per-node=1 --partition=gpu --gres=gpu:a100:4',
  );
});

test('slurmConf sets SLURM_CONF, quoted, for every Slurm command', () => {
  const b = new SlurmBackend(config({ slurmConf: "/etc/slurm/other cluster's.conf" }));
  assert.ok(
    b.sallocCommand('j', 2).startsWith(`export SLURM_CONF='/etc/slurm/other cluster'\\''s.conf' && salloc --no-shell `),
  );
  assert.throws(() => config({ slurmConf: 'relative.conf' }), /slurmConf must be an absolute path on the login host/);
});
