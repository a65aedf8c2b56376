/**
 * Prints the hottest functions of `.cpuprofile` files (self and inclusive time), e.g. those
 * written by a profiled run of a workload:
 *
 *   node --import tsx --import ./bench/profiling/graceful-kill.ts --cpu-prof --cpu-prof-dir=/tmp/prof \
 *     bench/orrery-workloads.ts --only put_get_gigabytes
 *   npx tsx bench/profiling/summarize-profile.ts /tmp/prof/*.cpuprofile
 *
 * Each process of the run (driver, agent, workers) writes its own file; files whose main
 * thread ran no Orrery code (the loader threads) are skipped.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TOP = Number(process.env.TOP ?? 15);

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || '(anonymous)'} ${basename(url) || ''}${url ? `:${lineNumber + 1}` : ''}`;
}

function summarize(file: string): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  if (!p.nodes.some((n) => /\/(orchestrator|backends)\//.test(n.callFrame.url))) return;
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id)!;
    selfTime.set(label(node), (selfTime.get(label(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const l = label(byId.get(x)!);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      seen.add(l);
    }
  });
  const roles = ['agent-main', 'worker-main', 'orrery-workloads', 'orrery-queued-rss'].filter((r) =>
    p.nodes.some((n) => n.callFrame.url.includes(r)),
  );
  console.log(`\n== ${basename(file)} (${roles.join(', ') || 'process'}): ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [title, table] of [
    ['self', selfTime],
    ['inclusive', inclusive],
  ] as const) {
    console.log(`-- ${title}`);
    for (const [l, t] of [...table].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      console.log(`${(t / 1000).toFixed(1).padStart(9)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${l}`);
    }
  }
}

for (const file of process.argv.slice(2)) summarize(file);
