/**
 * Compares two or more sessions against the first (the baseline), as W&B compares runs: key
 * metrics (task counts, failures, durations, cost), config, backends and placement rules side by
 * side, and task by task each other session against the baseline (`compareSessions`, so results
 * keep their values, difference sizes and sampling-noise verdicts).
 */
import type { CompareValueRow, MultiSessionComparison } from '../protocol/state-rows.ts';
import { compareSessions, readAllTasks, type CompareOptions } from './session-compare.ts';
import type { SessionReader } from './session-reader.ts';
import { settingLeaves, valueRows, type Leaves } from './settings-diff.ts';

/** Most sessions one comparison takes. */
export const MAX_COMPARED_SESSIONS = 8;

const COST_KEYS = new Set(['cost USD', 'billable s']);

/** Key metrics of one session, in the order the comparison lists them. */
function metrics(r: SessionReader): Leaves {
  const s = r.summary();
  const tasks = readAllTasks(r);
  const durations = tasks.flatMap((t) => (t.startedAt !== null && t.endedAt !== null ? [t.endedAt - t.startedAt] : []));
  const first = tasks.reduce((m, t) => Math.min(m, t.submittedAt), Infinity);
  const last = tasks.reduce((m, t) => Math.max(m, t.endedAt ?? t.submittedAt), -Infinity);
  const out: Leaves = new Map<string, unknown>([
    ['tasks', s.total],
    ['finished', s.byState.FINISHED ?? 0],
    ['failed', s.byState.FAILED ?? 0],
    ['task time ms (sum)', durations.reduce((a, d) => a + d, 0)],
    [
      'task time ms (mean)',
      durations.length ? Math.round(durations.reduce((a, d) => a + d, 0) / durations.length) : null,
    ],
    ['wall time ms', tasks.length ? last - first : 0],
    ['cost USD', s.totalCostUsd],
    ['billable s', s.totalBillableSeconds],
  ]);
  const byBackend = new Map<string, number>();
  for (const t of tasks) if (t.backend) byBackend.set(t.backend, (byBackend.get(t.backend) ?? 0) + 1);
  for (const [b, n] of [...byBackend].sort((x, y) => x[0].localeCompare(y[0]))) out.set(`tasks on ${b}`, n);
  const retried = tasks.filter((t) => t.attempt > 0).length;
  if (retried) out.set('tasks retried', retried);
  return out;
}

/**
 * Compares `readers[0]` (the baseline) with each of the others. Every reader stays open (the
 * caller closes them). Throws TypeError for fewer than 2 or more than MAX_COMPARED_SESSIONS.
 */
export function compareManySessions(
  readers: readonly SessionReader[],
  opts: CompareOptions = {},
): MultiSessionComparison {
  if (readers.length < 2 || readers.length > MAX_COMPARED_SESSIONS)
    throw new TypeError(
      `compare takes 2 to ${MAX_COMPARED_SESSIONS} sessions (got ${readers.length}); the first is the baseline`,
    );
  const metas = readers.map((r) => r.metadata());
  const settings = metas.map((m) => settingLeaves(m.config, m.placementRules));
  const rows: CompareValueRow[] = [
    ...valueRows(
      'metrics',
      readers.map((r) => metrics(r)),
    ),
    ...(['config', 'backends', 'rules'] as const).flatMap((section) =>
      valueRows(
        section,
        settings.map((s) => s.get(section)!),
      ),
    ),
  ];
  // Metrics keep their own order (counts, times, cost); valueRows sorted them by key.
  const order = [...metrics(readers[0]!).keys()];
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  // Cost is a key metric where a backend recorded any; all zero, it would only say nothing was billed.
  const metricRows = rows
    .filter((r) => r.section === 'metrics' && !(COST_KEYS.has(r.key) && r.values.every((v) => v === '0')))
    .sort((x, y) => rank(x.key) - rank(y.key));
  return {
    sessions: metas.map((m) => ({
      session: m.name,
      title: m.title,
      tags: m.tags,
      status: m.status,
      createdAt: m.createdAt,
    })),
    rows: [...metricRows, ...rows.filter((r) => r.section !== 'metrics')],
    pairs: readers.slice(1).map((b) => compareSessions(readers[0]!, b, opts)),
  };
}

/** A plain-text report of an N-way comparison, for the CLI: differing values, then each pair's tasks. */
export function formatMultiComparison(
  c: MultiSessionComparison,
  formatPair: (p: MultiSessionComparison['pairs'][number]) => string,
): string {
  const names = c.sessions.map((s) => s.session);
  const diff = c.rows.filter((r) => r.differs);
  const head = ['section', 'key', ...names.map((n, i) => (i === 0 ? `${n} (baseline)` : n))];
  const body = diff.map((r) => [
    r.section,
    r.key,
    ...r.values.map((v, i) => {
      const d = r.deltas[i];
      const shown = v === null ? '-' : v.length > 40 ? `${v.slice(0, 39)}…` : v;
      return i > 0 && d !== null && d !== 0 ? `${shown} (${d > 0 ? '+' : ''}${+d.toPrecision(4)})` : shown;
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    `${names.length} sessions against ${names[0]}: ${diff.length} of ${c.rows.length} values differ`,
    ...(diff.length ? [line(head), ...body.map(line)] : []),
    ...c.pairs.flatMap((p) => ['', formatPair(p)]),
  ].join('\n');
}
