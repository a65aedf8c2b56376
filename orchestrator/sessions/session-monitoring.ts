/**
 * What a session recorded for monitoring: usage samples per node (schema 4), node logs and the
 * cost tasks reported. Read by SessionReader; older schemas give what they have (no usage
 * before schema 4, no cost before schema 2).
 */
import type Database from 'better-sqlite3';
import type { CostSummary, NodeUsageSample } from '../protocol/state-rows.ts';

/** Samples read at most per call. */
const MAX_USAGE_ROWS = 500_000;

/** A node's log line as recorded. */
export interface SessionNodeLogLine {
  readonly t: number;
  readonly taskId?: string;
  readonly stream: string;
  readonly text: string;
}

const USAGE_COLUMNS: readonly (readonly [string, keyof NodeUsageSample])[] = [
  ['cpu', 'cpu'],
  ['mem_used', 'memUsedBytes'],
  ['mem_total', 'memTotalBytes'],
  ['gpus', 'gpus'],
  ['gpu_util', 'gpuUtil'],
  ['gpu_mem_used', 'gpuMemUsedMb'],
  ['gpu_mem_total', 'gpuMemTotalMb'],
  ['qpu_used', 'qpuUsed'],
  ['qpu_total', 'qpuTotal'],
  ['queued', 'queued'],
  ['queue_position', 'queuePosition'],
];

/** Every k-th sample of each node (its newest kept) so that about `max` remain in all; oldest first. */
export function thinUsage(samples: readonly NodeUsageSample[], max: number): NodeUsageSample[] {
  const stride = Math.ceil(samples.length / Math.max(1, max));
  if (stride <= 1) return [...samples];
  const byNode = new Map<string, NodeUsageSample[]>();
  for (const s of samples) {
    const list = byNode.get(s.nodeId);
    if (list) list.push(s);
    else byNode.set(s.nodeId, [s]);
  }
  const out: NodeUsageSample[] = [];
  for (const list of byNode.values()) for (let i = list.length - 1; i >= 0; i -= stride) out.push(list[i]!);
  return out.sort((a, b) => a.t - b.t);
}

/** Usage samples at or after `since`, oldest first (NULL columns left out); thinned to about `max` when given. */
export function readUsage(db: Database.Database, schemaVersion: number, since = 0, max?: number): NodeUsageSample[] {
  if (schemaVersion < 4) return [];
  const rows = db
    .prepare(`SELECT * FROM usage WHERE ts >= ? ORDER BY ts, rowid LIMIT ${MAX_USAGE_ROWS}`)
    .all(since) as Record<string, number | string | null>[];
  const samples = rows.map((r) => {
    const s: Record<string, number | string> = { nodeId: r.node_id as string, t: r.ts as number };
    for (const [col, key] of USAGE_COLUMNS) if (r[col] !== null && r[col] !== undefined) s[key] = r[col] as number;
    return s as unknown as NodeUsageSample;
  });
  return max === undefined ? samples : thinUsage(samples, max);
}

/**
 * The last `limit` lines a node's workers printed, oldest first. Sessions before node ids were
 * recorded on task output find it through the task's node.
 */
export function readNodeLogs(db: Database.Database, nodeId: string, limit = 2000): SessionNodeLogLine[] {
  const rows = db
    .prepare(`SELECT ts AS t, task_id AS taskId, stream, text FROM logs
      WHERE node_id = @nodeId OR (node_id IS NULL AND task_id IN (SELECT task_id FROM tasks WHERE node_id = @nodeId))
      ORDER BY id DESC LIMIT @limit`)
    .all({ nodeId, limit }) as { t: number; taskId: string | null; stream: string; text: string }[];
  return rows
    .reverse()
    .map((r) => ({ t: r.t, ...(r.taskId ? { taskId: r.taskId } : {}), stream: r.stream, text: r.text }));
}

/** The cost tasks reported (`costUsd` in their info), in all and per backend. */
export function readCost(db: Database.Database, schemaVersion: number): CostSummary {
  return sumCosts(readTaskCosts(db, schemaVersion));
}

/** The cost each task reported last (`costUsd`), with its backend. */
export function readTaskCosts(
  db: Database.Database,
  schemaVersion: number,
): { readonly taskId: string; readonly backend: string; readonly usd: number }[] {
  if (schemaVersion < 2) return [];
  const rows = db
    .prepare(`SELECT i.task_id AS taskId, COALESCE(t.backend, '') AS backend, i.value AS value FROM task_info i
      LEFT JOIN tasks t ON t.task_id = i.task_id WHERE i.key = 'costUsd'`)
    .all() as { taskId: string; backend: string; value: string }[];
  return rows.map((r) => ({ taskId: r.taskId, backend: r.backend, usd: Number(JSON.parse(r.value)) }));
}

/** Sums costs per backend (non-finite or negative amounts are left out). */
export function sumCosts(items: Iterable<{ readonly backend: string; readonly usd: number }>): CostSummary {
  const by = new Map<string, { usd: number; tasks: number }>();
  let totalUsd = 0;
  let tasks = 0;
  for (const { backend, usd } of items) {
    if (!Number.isFinite(usd) || usd < 0) continue;
    const e = by.get(backend) ?? { usd: 0, tasks: 0 };
    e.usd += usd;
    e.tasks++;
    by.set(backend, e);
    totalUsd += usd;
    tasks++;
  }
  const byBackend = [...by].map(([backend, e]) => ({ backend, usd: round(e.usd), tasks: e.tasks }));
  byBackend.sort((a, b) => b.usd - a.usd);
  return { totalUsd: round(totalUsd), tasks, byBackend };
}

/** To the micro-dollar, so sums of float amounts read cleanly. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
