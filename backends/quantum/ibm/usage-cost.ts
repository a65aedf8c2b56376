/**
 * What IBM Quantum jobs cost: QPU usage in seconds times the plan's rate per second, from the
 * published prices (resources/ibm-pricing.json). Before submission a job's usage is estimated
 * from its circuits and shots (`secondsPerJob + circuits x shots x secondsPerShot`), for the
 * head's budgets; once it finished, the job's metrics (GET /v1/jobs/{id}/metrics) give the
 * usage IBM bills: `usage.quantum_seconds` (older replies: `bss.seconds`, `usage.seconds`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { packagePath } from '../../../orchestrator/core/package-root.ts';
import type { JobMetricsReply } from './runtime-wire.ts';

/** The plan an instance is on when its config names none. */
export const DEFAULT_IBM_PLAN = 'pay-as-you-go';

/** resources/ibm-pricing.json. */
export interface IbmPriceTable {
  readonly source: string;
  readonly asOf: string;
  /** Rates by plan name (a Map: names come from configs). */
  readonly plans: ReadonlyMap<string, { readonly usdPerSecond: number }>;
  readonly estimate: { readonly secondsPerJob: number; readonly secondsPerShot: number };
}

/** A cost and how it was made, for the task's info and log. */
export interface IbmCost {
  readonly costUsd: number;
  readonly quantumSeconds: number;
  readonly basis: string;
}

const FILE = 'ibm-pricing.json';
let cached: IbmPriceTable | undefined;

/** The price table shipped in resources/. */
export function loadIbmPriceTable(): IbmPriceTable {
  if (cached) return cached;
  const path = packagePath('resources', FILE);
  if (!existsSync(path))
    throw new Error(`cannot find ${path}; the package was installed without its resources folder: reinstall it`);
  return (cached = parseIbmPriceTable(JSON.parse(readFileSync(path, 'utf8')), path));
}

/** Checks the shape of the table (it is edited by hand when prices change). */
export function parseIbmPriceTable(raw: unknown, where: string): IbmPriceTable {
  const t = raw as { source?: unknown; asOf?: unknown; plans?: unknown; estimate?: Record<string, unknown> } | null;
  const bad = (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
  if (!t || typeof t.source !== 'string' || typeof t.asOf !== 'string') bad('a price table needs source and asOf');
  if (typeof t!.plans !== 'object' || t!.plans === null) bad('plans must map plan names to { usdPerSecond }');
  const plans = new Map<string, { usdPerSecond: number }>();
  for (const [name, p] of Object.entries(t!.plans as object)) {
    const usd = (p as { usdPerSecond?: unknown } | null)?.usdPerSecond;
    if (!isAmount(usd)) bad(`plans[${name}].usdPerSecond must be a number >= 0`);
    plans.set(name, { usdPerSecond: usd as number });
  }
  const e = t!.estimate;
  if (!e || !isAmount(e.secondsPerJob) || !isAmount(e.secondsPerShot))
    bad('estimate must be { secondsPerJob, secondsPerShot }, numbers >= 0');
  return {
    source: t!.source as string,
    asOf: t!.asOf as string,
    plans,
    estimate: { secondsPerJob: e!.secondsPerJob as number, secondsPerShot: e!.secondsPerShot as number },
  };
}

/** The rate of `plan`, or of `usdPerSecond` when the config gives one (a contract's own rate). */
export function rateOf(
  table: IbmPriceTable,
  plan: string,
  usdPerSecond?: number,
): { usdPerSecond: number; what: string } | undefined {
  if (usdPerSecond !== undefined) return { usdPerSecond, what: `the configured $${usdPerSecond} per second` };
  const p = table.plans.get(plan);
  return p && { usdPerSecond: p.usdPerSecond, what: `the ${plan} plan's $${p.usdPerSecond} per second` };
}

/** Estimated cost of a job of `circuits` circuits of `shots` shots each, before it runs. */
export function estimateIbmJob(
  table: IbmPriceTable,
  rate: { usdPerSecond: number; what: string },
  circuits: number,
  shots: number,
): IbmCost {
  const { secondsPerJob, secondsPerShot } = table.estimate;
  const quantumSeconds = round(secondsPerJob + circuits * shots * secondsPerShot);
  return {
    costUsd: round(quantumSeconds * rate.usdPerSecond),
    quantumSeconds,
    basis: `estimated ${quantumSeconds} s of QPU usage (${secondsPerJob} s per job + ${circuits} x ${shots} shots x ${secondsPerShot} s) at ${rate.what} (prices of ${table.asOf})`,
  };
}

/** The billed usage of a finished job from its metrics, or undefined when they report none. */
export function usageSeconds(metrics: JobMetricsReply): number | undefined {
  const candidates = [metrics.usage?.quantum_seconds, metrics.bss?.seconds, metrics.usage?.seconds];
  return candidates.find((s): s is number => typeof s === 'number' && Number.isFinite(s) && s >= 0);
}

/** What a job cost by the usage its metrics report. */
export function costOfUsage(
  table: IbmPriceTable,
  rate: { usdPerSecond: number; what: string },
  quantumSeconds: number,
): IbmCost {
  return {
    costUsd: round(quantumSeconds * rate.usdPerSecond),
    quantumSeconds,
    basis: `${quantumSeconds} s of QPU usage (job metrics) at ${rate.what} (prices of ${table.asOf})`,
  };
}

function isAmount(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Micro-dollars, free of float noise. */
function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
