/**
 * SageMaker training instance types (resources/sagemaker-instances.json): what one instance
 * offers the scheduler (vCPUs, memory, GPUs and their model) and what it costs per hour, so a
 * finished job's BillableTimeInSeconds becomes a cost estimate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { packagePath } from '../../orchestrator/core/package-root.ts';

/** One instance type as published. */
export interface InstanceType {
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  /** GPU model as node label `accelerator` matches it (`A10G`, `T4`, `V100`, `A100`, `H100`). */
  readonly gpuModel?: string;
  /** On-demand training price per instance-hour in the table's region. */
  readonly usdPerHour: number;
}

/** resources/sagemaker-instances.json. */
export interface InstanceTable {
  readonly source: string;
  readonly asOf: string;
  readonly region: string;
  readonly currency: string;
  readonly instances: Readonly<Record<string, InstanceType>>;
}

const FILE = 'sagemaker-instances.json';
let cached: InstanceTable | undefined;

/** The table shipped in resources/ (found from the package's root). */
export function loadInstanceTable(): InstanceTable {
  if (cached) return cached;
  const path = packagePath('resources', FILE);
  if (!existsSync(path))
    throw new Error(`cannot find ${path}; the package was installed without its resources folder: reinstall it`);
  return (cached = parseInstanceTable(JSON.parse(readFileSync(path, 'utf8')), path));
}

/** Checks the shape of an instance table (it is edited by hand when prices change). */
export function parseInstanceTable(raw: unknown, where: string): InstanceTable {
  const t = raw as Partial<InstanceTable> | null;
  if (
    !t ||
    typeof t.source !== 'string' ||
    typeof t.asOf !== 'string' ||
    typeof t.instances !== 'object' ||
    t.instances === null
  ) {
    throw new Error(`${where}: an instance table needs source, asOf and instances`);
  }
  for (const [name, i] of Object.entries(t.instances)) {
    const counts = [i.vcpus, i.memoryGiB, i.gpus, i.usdPerHour];
    if (
      !/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(name) ||
      counts.some((n) => typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    ) {
      throw new Error(
        `${where}: instances[${name}] must be named ml.<family>.<size> and have numbers vcpus, memoryGiB, gpus, usdPerHour >= 0`,
      );
    }
    if (i.gpus > 0 && typeof i.gpuModel !== 'string')
      throw new Error(`${where}: instances[${name}] has GPUs but no gpuModel`);
  }
  return t as InstanceTable;
}

/** The instance type, or undefined when the table does not list it. */
export function instanceType(name: string, table: InstanceTable = loadInstanceTable()): InstanceType | undefined {
  return Object.hasOwn(table.instances, name) ? table.instances[name] : undefined;
}

/** What a finished job cost, and how the number was made (for the task log). */
export interface JobCost {
  readonly costUsd: number;
  readonly basis: string;
  /** Managed spot: the fraction saved against on-demand (1 - billable / training time). */
  readonly spotSavings?: number;
}

/**
 * Estimates a job's cost: price/hour x instanceCount x billable seconds / 3600. With managed spot
 * SageMaker bills fewer seconds than the job trained; the ratio is the saving it reports.
 */
export function estimateJobCost(
  table: InstanceTable,
  name: string,
  instanceCount: number,
  billableSeconds: number,
  trainingSeconds?: number,
): JobCost | undefined {
  const t = instanceType(name, table);
  if (!t) return undefined;
  const costUsd = Math.round(t.usdPerHour * instanceCount * (billableSeconds / 3600) * 1e6) / 1e6;
  const basis = `${instanceCount} x ${name} at $${t.usdPerHour}/h for ${billableSeconds} billable s (${table.region} on-demand prices of ${table.asOf})`;
  if (trainingSeconds === undefined || trainingSeconds <= 0 || billableSeconds >= trainingSeconds)
    return { costUsd, basis };
  const spotSavings = Math.round((1 - billableSeconds / trainingSeconds) * 1000) / 1000;
  return {
    costUsd,
    basis: `${basis}; managed spot saved ${(spotSavings * 100).toFixed(1)}% of ${trainingSeconds} s`,
    spotSavings,
  };
}
