/** `orrery sessions list|show|label|export|delete|compare`: experiment sessions on disk. */
import {
  compareManySessions,
  compareSessions,
  formatComparison,
  formatMultiComparison,
  SessionStore,
  validateLabelsPatch,
  type SessionDetails,
  type SessionListing,
  type SessionReader,
} from '../sessions/index.ts';
import { apiJson } from '../client/api-client.ts';
import { runningHead } from '../client/head-file.ts';
import type { CostSummary } from '../protocol/state-rows.ts';
import { SESSIONS_PULL_USAGE } from './sessions-pull-command.ts';

/** Options of `sessions label`: a new title and notes, tags to add and to remove. */
export interface SessionLabelOptions {
  readonly title?: string;
  readonly notes?: string;
  readonly tag?: readonly string[];
  readonly untag?: readonly string[];
}

/** Help of `orrery sessions`. */
export const SESSIONS_USAGE = `usage: orrery sessions list [--json]               sessions, newest first
       orrery sessions show <name> [--json]        metadata, task counts per state and name, cost
       orrery sessions label <name> [--title T] [--notes TEXT] [--tag T]... [--untag T]...
                                                   a display title, notes and tags (the name stays)
       orrery sessions export <name> <file.tar.gz> one archive: database snapshot + result files
${SESSIONS_PULL_USAGE}
       orrery sessions delete <name>               remove a session (not one a live head records)
       orrery sessions compare <a> <b> [<c>...] [--json]
                                                   tasks, parameters, results and timings that differ;
                                                   with 3 or more: metrics, config, backends and rules
                                                   against the first, then each against the first

Sessions live in ~/.orrery/sessions (or $ORRERY_HOME/sessions); record one with init({ session })
or orrery start --session <name>. While orrery start --on holds a tunnel to a head on another
host, list and show read that host's sessions (--local: this machine's); pull copies one here.`;

/** Runs `sessions <sub> ...`. */
export async function sessionsCommand(
  args: readonly string[],
  json: boolean,
  print: (line: string) => void,
  labels: SessionLabelOptions = {},
  local = false,
): Promise<void> {
  const [sub, a, b] = args;
  const store = new SessionStore();
  // A head on another host (orrery start --on) keeps its sessions there: list and show read them through the tunnel.
  const tunnel = local ? undefined : runningHead();
  const remote = tunnel?.remote
    ? { target: { url: tunnel.url, token: tunnel.token }, where: tunnel.remote.where }
    : undefined;
  const need = (what: string, v: string | undefined): string => {
    if (!v) throw new Error(`sessions ${sub} needs ${what}; see orrery sessions --help`);
    return v;
  };
  switch (sub) {
    case 'list': {
      const list = remote ? await apiJson<SessionListing[]>(remote.target, 'GET', '/api/sessions') : store.list();
      if (remote && !json) print(`sessions on ${remote.where} (the head's host; --local: this machine's)`);
      if (json) return print(JSON.stringify(list));
      if (list.length === 0) return print(`no sessions in ${store.dir}`);
      print(
        table([
          ['name', 'title', 'status', 'created', 'tasks', 'finished', 'failed', 'size', 'tags'],
          ...list.map((s) => [
            s.name,
            s.title ?? '',
            s.status,
            new Date(s.createdAt).toISOString().replace('T', ' ').slice(0, 19),
            String(s.totalTasks),
            String(s.taskCounts.FINISHED ?? 0),
            String(s.taskCounts.FAILED ?? 0),
            size(s.sizeBytes),
            s.tags.join(','),
          ]),
        ]),
      );
      for (const s of list) if (s.error) print(`  ${s.name}: ${s.error}`);
      return;
    }
    case 'show': {
      const name = need('a session name', a);
      const d = remote
        ? await apiJson<SessionDetails>(remote.target, 'GET', `/api/sessions/${encodeURIComponent(name)}`)
        : store.show(name);
      if (json) return print(JSON.stringify(d));
      print(`session ${d.name}: ${d.status}, recorded by Orrery ${d.orreryVersion} (pid ${d.pid} on ${d.hostname})`);
      print(
        `  created ${new Date(d.createdAt).toISOString()}${d.endedAt ? `, ended ${new Date(d.endedAt).toISOString()}` : ''}`,
      );
      if (d.title) print(`  title ${d.title}`);
      if (d.tags.length) print(`  tags ${d.tags.join(', ')}`);
      if (d.notes) for (const l of d.notes.split('\n')) print(`  | ${l}`);
      print(`  file ${d.file} (${size(d.sizeBytes)})`);
      print(
        `  tasks ${d.summary.total}: ${
          Object.entries(d.summary.byState)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'none'
        }`,
      );
      for (const [name, states] of Object.entries(d.summary.byName))
        print(
          `    ${name}: ${Object.entries(states)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
        );
      if (d.summary.totalCostUsd > 0)
        print(`  estimated cost $${d.summary.totalCostUsd.toFixed(2)}, billable ${d.summary.totalBillableSeconds} s`);
      for (const line of costLines(d.cost, d.config)) print(line);
      return;
    }
    case 'export': {
      const r = await store.export(need('a session name', a), need('an output file', b));
      for (const s of r.skipped)
        print(`warning: result file ${JSON.stringify(s.file)} of session ${a} was skipped: ${s.reason}`);
      return print(`exported session ${a} to ${r.file} (${size(r.bytes)}, ${r.entries} entries)`);
    }
    case 'delete':
      store.delete(need('a session name', a));
      return print(`deleted session ${a}`);
    case 'label': {
      const name = need('a session name', a);
      if (labels.title === undefined && labels.notes === undefined && !labels.tag?.length && !labels.untag?.length)
        throw new Error('sessions label needs --title, --notes, --tag or --untag; see orrery sessions --help');
      const before = store.show(name).tags;
      const drop = new Set(labels.untag ?? []);
      const patch = validateLabelsPatch({
        ...(labels.title !== undefined ? { title: labels.title } : {}),
        ...(labels.notes !== undefined ? { notes: labels.notes } : {}),
        ...(labels.tag?.length || labels.untag?.length
          ? { tags: [...before, ...(labels.tag ?? [])].filter((t) => !drop.has(t)) }
          : {}),
      });
      const l = store.label(name, patch);
      if (json) return print(JSON.stringify(l));
      return print(`session ${name}: title ${l.title ?? '(none)'}; tags ${l.tags.join(', ') || '(none)'}`);
    }
    case 'compare': {
      const names = args.slice(1);
      if (names.length < 2) need('two session names', undefined);
      const readers: SessionReader[] = [];
      try {
        for (const n of names) readers.push(store.open(n));
        // Two sessions print as they always did (the --json shape is SessionComparison).
        if (readers.length === 2) {
          const c = compareSessions(readers[0]!, readers[1]!);
          return print(json ? JSON.stringify(c) : formatComparison(c));
        }
        const c = compareManySessions(readers);
        return print(json ? JSON.stringify(c) : formatMultiComparison(c, formatComparison));
      } finally {
        for (const r of readers) r.close();
      }
    }
    default:
      throw new Error(
        `unknown sessions command ${sub ?? '(none)'}; use list, show, label, export, pull, delete or compare`,
      );
  }
}

function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `sessions show`: cost per backend, and the budgets the session ran under (its config's `budgetUsd` and each backend's). */
function costLines(cost: CostSummary, config: unknown): string[] {
  const c = (config ?? {}) as { budgetUsd?: unknown; backends?: unknown };
  const budgets = new Map<string, number>();
  for (const b of Array.isArray(c.backends) ? c.backends : []) {
    const { name, budgetUsd } = (b ?? {}) as { name?: unknown; budgetUsd?: unknown };
    if (typeof name === 'string' && typeof budgetUsd === 'number') budgets.set(name, budgetUsd);
  }
  const lines: string[] = [];
  if (typeof c.budgetUsd === 'number')
    lines.push(`  budget $${dollars(c.budgetUsd)}: $${dollars(cost.totalUsd)} spent (${cost.tasks} paid tasks)`);
  for (const b of cost.byBackend) {
    const budget = budgets.get(b.backend);
    lines.push(
      `    ${b.backend || '(no backend)'}: $${dollars(b.usd)} over ${b.tasks} task${b.tasks === 1 ? '' : 's'}${budget === undefined ? '' : ` (budget $${dollars(budget)})`}`,
    );
  }
  return lines;
}

function dollars(v: number): string {
  return v !== 0 && v < 0.01 ? String(Number(v.toPrecision(3))) : v.toFixed(2);
}
