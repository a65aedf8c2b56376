/** `orrery list tasks|actors|objects|nodes|placement-groups`: the State API of the running head, as a table or JSON. */
import { apiJson, resolveTarget, type HeadTarget } from '../client/api-client.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery list`. */
export const LIST_USAGE = `usage: orrery list tasks|actors|objects|nodes|placement-groups [--filter KEY=VALUE ...] [--limit N] [--json]
                   [--address ws://HOST:PORT]

Lists the running head's table. --filter keeps rows whose KEY equals VALUE (KEY!=VALUE: differs);
repeat it to combine filters. --json prints the rows as JSON.`;

const KINDS = ['tasks', 'actors', 'objects', 'nodes', 'placement-groups'] as const;

/** Columns shown per table (JSON shows every field). */
const COLUMNS: Record<string, readonly string[]> = {
  tasks: ['taskId', 'name', 'type', 'state', 'nodeId', 'attempt', 'errorType'],
  actors: ['actorId', 'className', 'name', 'state', 'nodeId', 'numRestarts'],
  objects: ['objectId', 'type', 'state', 'sizeBytes', 'location', 'refCount'],
  nodes: ['nodeId', 'backend', 'state', 'resources', 'available'],
};

/** The head from --address (else ORRERY_ADDRESS, else head.json), with its token from ORRERY_TOKEN or head.json. */
export function targetOf(opts: CliOptions): HeadTarget {
  return resolveTarget({ address: opts.address as string | undefined });
}

/** Formats rows as an aligned text table. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

/** A cell: scalars as they are, objects as compact JSON. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Runs `list <kind>`. */
export async function listCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [kind, extra] = args;
  if (!kind || !(KINDS as readonly string[]).includes(kind))
    throw new Error(`orrery list needs one of ${KINDS.join(', ')}${kind ? ` (got ${kind})` : ''}`);
  if (extra) throw new Error(`orrery list takes one table name (got also ${extra}); see orrery list --help`);
  const q = new URLSearchParams();
  for (const f of (opts.filter as string[] | undefined) ?? []) {
    if (!/^[^=!]+!?=/.test(f)) throw new Error(`--filter ${f} must be KEY=VALUE or KEY!=VALUE`);
    q.append('filter', f);
  }
  if (opts.limit !== undefined) {
    if (!/^[1-9]\d*$/.test(String(opts.limit)))
      throw new Error(`--limit must be a positive integer (got ${String(opts.limit)})`);
    q.set('limit', String(opts.limit));
  }
  const rows = await apiJson<Record<string, unknown>[]>(targetOf(opts), 'GET', `/api/${kind}${q.size ? `?${q}` : ''}`);
  if (opts.json) {
    print(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    print(`no ${kind}`);
    return 0;
  }
  const cols = COLUMNS[kind] ?? Object.keys(rows[0]!);
  print(
    formatTable(
      cols,
      rows.map((r) => cols.map((c) => cell(r[c]))),
    ),
  );
  print(`\n${rows.length} ${kind}`);
  return 0;
}
