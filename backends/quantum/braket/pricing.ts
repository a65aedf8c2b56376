/**
 * Cost estimates of Braket quantum tasks from the published on-demand prices
 * (resources/braket-pricing.json). QPUs cost a per-task fee plus a per-shot price, known before
 * the run. On-demand simulators (SV1, DM1, TN1) bill simulation time per minute in 1 ms steps
 * with a 3 s minimum: before the run the estimate is that minimum, after it the runner refines
 * it with the execution time the results report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { packagePath } from '../../../orchestrator/core/package-root.ts';

/** The price of one device, as published. */
export type DevicePrice =
  /** A QPU: `perTaskUsd + shots * perShotUsd`. */
  | {
      readonly billing: 'per-shot';
      readonly provider: string;
      readonly family: string;
      readonly perTaskUsd: number;
      readonly perShotUsd: number;
    }
  /** An on-demand simulator: `max(seconds, minimumSeconds) / 60 * perMinuteUsd`. */
  | {
      readonly billing: 'per-minute';
      readonly provider: string;
      readonly family: string;
      readonly perMinuteUsd: number;
      readonly minimumSeconds: number;
    };

/** resources/braket-pricing.json: prices keyed by device ARN, with where and when they were read. */
export interface PriceTable {
  readonly source: string;
  readonly asOf: string;
  readonly currency: string;
  readonly devices: Readonly<Record<string, DevicePrice>>;
}

const FILE = 'braket-pricing.json';
let cached: PriceTable | undefined;

/** The price table shipped in resources/ (found from the package's root). */
export function loadPriceTable(): PriceTable {
  if (cached) return cached;
  const path = packagePath('resources', FILE);
  if (!existsSync(path))
    throw new Error(`cannot find ${path}; the package was installed without its resources folder: reinstall it`);
  return (cached = parsePriceTable(JSON.parse(readFileSync(path, 'utf8')), path));
}

/** Checks the shape of a price table (it is edited by hand when prices change). */
export function parsePriceTable(raw: unknown, where: string): PriceTable {
  const t = raw as Partial<PriceTable> | null;
  if (
    !t ||
    typeof t.source !== 'string' ||
    typeof t.asOf !== 'string' ||
    typeof t.devices !== 'object' ||
    t.devices === null
  ) {
    throw new Error(`${where}: a price table needs source, asOf and devices`);
  }
  for (const [arn, p] of Object.entries(t.devices)) {
    const ok =
      p.billing === 'per-shot'
        ? isPrice(p.perTaskUsd) && isPrice(p.perShotUsd)
        : p.billing === 'per-minute' && isPrice(p.perMinuteUsd) && isPrice(p.minimumSeconds);
    if (!ok)
      throw new Error(
        `${where}: devices[${arn}] must be per-shot {perTaskUsd, perShotUsd} or per-minute {perMinuteUsd, minimumSeconds}`,
      );
  }
  return t as PriceTable;
}

/**
 * Reserves one quantum task's estimate for a circuit against the head's budgets before it joins a
 * batch (rejects with BudgetExceededError); a program set costs no more than its circuits alone.
 */
export async function reserveBraketTask(
  reserve: ((estimateUsd: number, what: string) => Promise<void>) | undefined,
  deviceArn: string,
  shots: number,
): Promise<void> {
  const priced = estimateCost(loadPriceTable(), deviceArn, shots);
  if (priced && reserve) await reserve(priced.costUsd, `Braket quantum task on ${deviceArn} (${shots} shots)`);
}

/** What a task is expected to cost, or undefined for a device the table does not list. */
export interface CostEstimate {
  readonly costUsd: number;
  /** How the number was made, for the task log. */
  readonly basis: string;
}

/**
 * Estimates a task's cost. `simulatedMs` is the simulator's execution time once known; without
 * it a simulator task is estimated at its minimum charge.
 */
export function estimateCost(
  table: PriceTable,
  deviceArn: string,
  shots: number,
  simulatedMs?: number,
): CostEstimate | undefined {
  const p = table.devices[deviceArn];
  if (!p) return undefined;
  if (p.billing === 'per-shot') {
    return {
      costUsd: round(p.perTaskUsd + shots * p.perShotUsd),
      basis: `${p.provider} ${p.family}: $${p.perTaskUsd} per task + $${p.perShotUsd} x ${shots} shots (prices of ${table.asOf})`,
    };
  }
  const seconds = Math.max(simulatedMs === undefined ? 0 : simulatedMs / 1000, p.minimumSeconds);
  const what = simulatedMs === undefined ? `the ${p.minimumSeconds} s minimum` : `${seconds.toFixed(3)} s billed`;
  return {
    costUsd: round((seconds / 60) * p.perMinuteUsd),
    basis: `${p.family} simulator: $${p.perMinuteUsd} per minute, ${what} (prices of ${table.asOf})`,
  };
}

function isPrice(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Micro-dollars: enough for per-shot prices, and free of float noise such as 1.2000000000000002. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
