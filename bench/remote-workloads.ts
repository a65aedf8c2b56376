/**
 * Remote backends next to the local one, in the same run: async task throughput and sync
 * round-trip latency through the ssh backend (the loopback sshd of test/services) and the local
 * backend, and the time from first demand to the first task running on a new Slurm allocation.
 * Needs the test services (`npm run services`); without them it says so loudly and exits 3.
 */
import { init, shutdown, remote, get } from 'orrery-compute';
import { servicesAvailable, slurmService, sshService } from '../test/services/env.ts';
import { budgetFor, measureRate } from './measure.ts';

const budget = budgetFor(process.argv.includes('--quick'));
const status = servicesAvailable();
if (!status.ssh || !status.slurm) {
  process.stderr.write(
    `!!! remote workloads could not run: ${status.reason ?? 'services missing'}; start them with npm run services\n`,
  );
  process.exit(3);
}
const keys = { identityFile: sshService.keyPath, knownHostsFile: sshService.knownHostsPath };
const login = `${sshService.user}@${sshService.host}:${sshService.port}`;
const emit = (metric: string, value: number, unit: string, system: string, note: string) =>
  process.stdout.write(`${JSON.stringify({ metric, value, unit, system, note })}\n`);

await init({
  numCpus: 2,
  logToDriver: false,
  backends: [
    { name: 'ssh', kind: 'ssh', hosts: [login], numCpus: 2, ...keys },
    {
      name: 'slurm',
      kind: 'slurm',
      loginHost: login,
      partition: slurmService.partition,
      cpusPerNode: 1,
      maxNodes: 1,
      idleTimeoutS: 600,
      ...keys,
    },
  ],
});
for (const backend of ['local', 'ssh']) {
  const noop = remote({ backend }, () => 0);
  const asyncRate = await measureRate(budget, budget.batch, async () => {
    await get(Array.from({ length: budget.batch }, () => noop.remote()));
  });
  emit(
    `${backend}_tasks_async`,
    asyncRate.value,
    'tasks/s',
    'orrery',
    `no-op tasks pinned to the ${backend} backend, batches of ${budget.batch}`,
  );
  const syncRate = await measureRate(budget, 1, async () => {
    await get(noop.remote());
  });
  emit(
    `${backend}_task_round_trip_ms`,
    1000 / syncRate.value,
    'ms',
    'orrery',
    `submit one no-op task on the ${backend} backend and get it`,
  );
}
const t0 = performance.now();
await get(remote({ backend: 'slurm' }, () => 0).remote());
emit(
  'slurm_first_task_s',
  (performance.now() - t0) / 1000,
  's',
  'orrery',
  'from the first demand to the first task done on a new Slurm allocation (srun through SSH, agent start included)',
);
await shutdown();
