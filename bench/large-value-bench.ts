/**
 * A value past one frame through a task and back: `put()` of a 3 GiB Uint8Array, an identity
 * task on the default local node, `get()`. Prints the seconds of the round trip and the peak
 * resident memory (VmHWM) of the driver (which holds the embedded head and the caller's array)
 * and of the node's agent and workers. `--quick`: 256 MiB.
 *
 *   npx tsx bench/large-value-bench.ts [--quick]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { get, init, put, remote, shutdown } from '../orchestrator/api/index.ts';

const MiB = 2 ** 20;
const bytes = process.argv.includes('--quick') ? 256 * MiB : 3 * 1024 * MiB;
const label = bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;

const emit = (metric: string, value: number, unit: string, note: string) =>
  process.stdout.write(`${JSON.stringify({ metric, value, unit, system: 'orrery', note })}\n`);

/** Peak RSS in MiB of `pid` (VmHWM), or undefined when it is gone. */
function peakMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** The processes this driver started (its agent) and theirs (the workers), with what they run. */
function descendants(): { pid: number; role: string }[] {
  const parentOf = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const d of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch {}
  }
  const mine = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...parentOf.keys()].filter(mine).flatMap((pid) => {
    const c = cmd.get(pid) ?? '';
    const role = c.includes('agent-main') ? 'agent' : c.includes('worker-main') ? 'worker' : undefined;
    return role ? [{ pid, role }] : [];
  });
}

await init({ logToDriver: false });
const identity = remote({ name: 'identity' }, (x: Uint8Array) => x);
const value = new Uint8Array(bytes);
for (let i = 0; i < bytes; i += 4096) value[i] = i % 251;
const t0 = performance.now();
const back = await get(identity.remote(put(value)));
const seconds = (performance.now() - t0) / 1000;
if (back.length !== bytes || back[bytes - 4096] !== value[bytes - 4096]) throw new Error('the value came back changed');
const processes = descendants();
const peaks = (role: string) => processes.filter((p) => p.role === role).map((p) => peakMiB(p.pid) ?? 0);
emit('large_value_round_trip_s', seconds, 's', `put(${label} Uint8Array) + identity task + get, on the local node`);
emit(
  'large_value_driver_peak_rss_mib',
  peakMiB(process.pid)!,
  'MiB',
  `peak RSS of the driver and its embedded head, with the caller's ${label} array (mapped views of shared memory count once touched)`,
);
emit('large_value_agent_peak_rss_mib', Math.max(0, ...peaks('agent')), 'MiB', 'peak RSS of the node agent');
emit('large_value_worker_peak_rss_mib', Math.max(0, ...peaks('worker')), 'MiB', 'peak RSS of the largest worker');
await shutdown();
