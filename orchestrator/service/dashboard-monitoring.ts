/**
 * The monitoring routes of the dashboard API (dashboard-api.md, "Monitoring"): the head's usage
 * history per node, a node's recent log lines, and the cost tasks reported so far. The same
 * facts of a recorded session are served by dashboard-sessions.ts.
 */
import type { Head } from '../head/head.ts';
import type { NodeLogLine } from '../head/log-router.ts';
import type { CostSummary, NodeUsageSample } from '../protocol/state-rows.ts';
import { sumCosts } from '../sessions/index.ts';
import { DashboardRequestError } from './dashboard-errors.ts';

/** `since` when a request names none: the last hour. */
const DEFAULT_WINDOW_MS = 3_600_000;

/** Reads `?since=` (ms since the epoch; a negative number means that many ms before now). */
export function sinceParam(q: URLSearchParams, now = Date.now()): number {
  const v = q.get('since');
  if (v === null || v === '') return now - DEFAULT_WINDOW_MS;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new DashboardRequestError(
      400,
      `since must be a time in ms since the epoch (or a negative number of ms before now), not ${JSON.stringify(v)}`,
      { since: 'a number: ms since the epoch, or negative for ms before now' },
    );
  return n < 0 ? now + n : n;
}

/** Reads `?node=` (optional). */
function nodeParam(q: URLSearchParams): string | undefined {
  return q.get('node') || undefined;
}

/** The cost the head's tasks reported so far (`costUsd` in their info), in all and per backend. */
export function liveCost(head: Head): CostSummary {
  const items: { backend: string; usd: number }[] = [];
  for (const t of head.queries.tasks()) {
    const usd = t.info?.costUsd;
    if (typeof usd === 'number') items.push({ backend: t.nodeId ? head.queries.backendOfNode(t.nodeId) : '', usd });
  }
  const cost = sumCosts(items);
  const budget = head.spend.summary();
  const budgeted = budget.budgetUsd !== undefined || budget.byBackend.some((b) => b.budgetUsd !== undefined);
  return budgeted ? { ...cost, budget } : cost;
}

/** GET /api/usage, /api/node-logs/:nodeId and /api/cost. */
export class DashboardMonitoring {
  constructor(private readonly head: Head) {}

  /** GET /api/usage?since=&node=: samples at or after `since` (default: the last hour), by node. */
  usage(q: URLSearchParams): { samples: NodeUsageSample[]; now: number } {
    const now = Date.now();
    return { samples: this.head.usage.since(sinceParam(q, now), nodeParam(q)), now };
  }

  /** GET /api/node-logs/:nodeId: the node's recent lines (the last 2,000). */
  nodeLogs(nodeId: string): { nodeId: string; lines: readonly NodeLogLine[] } {
    return { nodeId, lines: this.head.logs.nodeLines(nodeId) };
  }

  /** GET /api/cost. */
  cost(): CostSummary {
    return liveCost(this.head);
  }
}
