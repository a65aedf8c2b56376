/** `orrery summary tasks`: task counts per name and state (Ray's `ray summary tasks`). */
import { apiJson } from '../client/api-client.ts';
import { formatTable, targetOf } from './list-command.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery summary`. */
export const SUMMARY_USAGE = `usage: orrery summary tasks [--json] [--address ws://HOST:PORT]

Counts the running head's tasks per function name and state.`;

const STATES = ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'RUNNING', 'FINISHED', 'FAILED'];

/** Runs `summary tasks`. */
export async function summaryCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (args[0] !== 'tasks' || args.length > 1)
    throw new Error(`orrery summary supports only: summary tasks${args[0] ? ` (got ${args.join(' ')})` : ''}`);
  const summary = await apiJson<Record<string, { name: string; type: string; stateCounts: Record<string, number> }>>(
    targetOf(opts),
    'GET',
    '/api/summary/tasks',
  );
  if (opts.json) {
    print(JSON.stringify(summary, null, 2));
    return 0;
  }
  const entries = Object.values(summary);
  if (entries.length === 0) {
    print('no tasks');
    return 0;
  }
  const total = entries.reduce((n, e) => n + Object.values(e.stateCounts).reduce((a, b) => a + b, 0), 0);
  print(`${total} task${total === 1 ? '' : 's'}, ${entries.length} name${entries.length === 1 ? '' : 's'}\n`);
  const rows = entries.map((e) => [e.name, e.type, ...STATES.map((s) => String(e.stateCounts[s] ?? 0))]);
  print(formatTable(['name', 'type', 'pending args', 'pending node', 'running', 'finished', 'failed'], rows));
  return 0;
}
