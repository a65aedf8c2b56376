/** `orrery status`: like `ray status`: nodes per backend, resource usage, pending and infeasible demand. */
import { apiJson } from '../client/api-client.ts';
import { formatDuration } from '../core/duration.ts';
import type { StatusView } from '../service/status-view.ts';
import { targetOf } from './list-command.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery status`. */
export const STATUS_USAGE = `usage: orrery status [--json] [--address ws://HOST:PORT]

Shows the running head's nodes per backend with their resources, how much of each resource is
in use, the work waiting for a node (pending demand) and work no node or backend can run.`;

const RULE = '-'.repeat(60);

function amount(name: string, v: number): string {
  if (name !== 'memory') return Number.isInteger(v) ? `${v}.0` : String(Math.round(v * 10_000) / 10_000);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)}${units[i]}`;
}

function resources(r: Record<string, number>): string {
  return (
    Object.entries(r)
      .map(([k, v]) => `${amount(k, v)} ${k}`)
      .join(', ') || '(none)'
  );
}

/** Renders the status document as text. */
export function formatStatus(s: StatusView, where: string): string[] {
  const out = [`======== Orrery status: head at ${where} ========`, 'Node status', RULE];
  const backends = Object.entries(s.backends);
  if (backends.length === 0) out.push(' (no nodes)');
  for (const [name, b] of backends) {
    out.push(`Backend ${name}: ${b.alive} node${b.alive === 1 ? '' : 's'} alive${b.dead ? `, ${b.dead} dead` : ''}`);
    for (const n of s.nodes.filter((x) => x.backend === name && x.state === 'ALIVE'))
      out.push(` ${String(n.nodeId)}: ${resources(n.resources as Record<string, number>)}`);
  }
  out.push('', 'Resources', RULE, 'Usage:');
  const names = Object.keys(s.resources.total);
  if (names.length === 0) out.push(' (no resources)');
  for (const k of names) out.push(` ${amount(k, s.resources.used[k] ?? 0)}/${amount(k, s.resources.total[k]!)} ${k}`);
  out.push('Demands:');
  if (s.pendingDemand.length === 0) out.push(' (no resource demands)');
  for (const d of s.pendingDemand)
    out.push(
      ` ${JSON.stringify(d.resources)}${d.backend ? ` on ${d.backend}` : ''}: ${d.count} pending task${d.count === 1 ? '' : 's'}/actors`,
    );
  out.push('Infeasible requests:');
  if (s.infeasible.length === 0) out.push(' (none)');
  for (const d of s.infeasible)
    out.push(
      ` ${JSON.stringify(d.resources)}${d.backend ? ` on ${d.backend}` : ''}: ${d.count} waiting; no node or backend offers ${d.missing}`,
    );
  const states = Object.entries(s.tasks)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  out.push('', `Tasks: ${states || 'none'}`, `Drivers: ${s.drivers} connected`);
  if (s.agentGraceS !== undefined)
    out.push(
      `Agent grace: ${formatDuration(s.agentGraceS)} (agents keep running, holding their resources, that long without a head; orrery start --agent-grace)`,
    );
  return out;
}

/** Runs `status`. */
export async function statusCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (args.length > 0) throw new Error(`orrery status takes no arguments (got ${args[0]}); see orrery status --help`);
  const target = targetOf(opts);
  const s = await apiJson<StatusView>(target, 'GET', '/api/status');
  if (opts.json) print(JSON.stringify(s, null, 2));
  else for (const line of formatStatus(s, target.url)) print(line);
  return 0;
}
