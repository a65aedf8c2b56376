/**
 * `command({ nodes: N })` on the driver's side: checks the gang options and submits the gang's
 * coordinator (api/gang-runner.ts), a zero-CPU task that reserves N distinct nodes of the
 * command's backend as one STRICT_SPREAD placement group, runs one rank per bundle with the
 * torchrun/MPI environment, and fails every rank when one fails.
 */
import { shipCode } from '../core/function-source.ts';
import type { ObjectRef } from '../core/object-ref.ts';
import { normalizeTaskOptions, type TaskOptions } from '../core/options.ts';
import { amountsOf } from '../core/resources.ts';
import type { CommandCall, CommandSpec, GangOptions, GangPlan, GangResult } from './command-types.ts';
import { runGang } from './gang-runner.ts';
import { RemoteFunction } from './remote-function.ts';

const GANG_KEYS = ['nodes', 'ranks', 'masterPort', 'placementTimeoutMs'] as const;
const DEFAULT_PLACEMENT_TIMEOUT_MS = 600_000;

/** The environment of rank `rank` of `size` (torchrun's names; one process per node). */
export function rankEnv(rank: number, size: number): Record<string, string> {
  return {
    WORLD_SIZE: String(size),
    RANK: String(rank),
    NODE_RANK: String(rank),
    GROUP_RANK: String(rank),
    LOCAL_RANK: '0',
    LOCAL_WORLD_SIZE: '1',
  };
}

/** Splits the gang options off `command()`'s options; throws TypeError naming a bad one. */
export function takeGangOptions<T extends GangOptions>(
  options: T,
): { gang: GangOptions; rest: Omit<T, (typeof GANG_KEYS)[number]> } {
  const { nodes, ranks, masterPort, placementTimeoutMs, ...rest } = options;
  if (nodes !== undefined && (!Number.isInteger(nodes) || nodes < 1))
    throw new TypeError(`command(): option nodes must be an integer >= 1 (got ${String(nodes)})`);
  const gangOnly = { ranks, masterPort, placementTimeoutMs };
  if ((nodes ?? 1) === 1) {
    const given = Object.entries(gangOnly).find(([, v]) => v !== undefined);
    if (given) throw new TypeError(`command(): option ${given[0]} applies only to a gang; give nodes >= 2 with it`);
    return { gang: {}, rest };
  }
  if (ranks !== undefined && ranks !== 'all')
    throw new TypeError(`command(): option ranks must be 'all' or absent (got ${JSON.stringify(ranks)})`);
  if (masterPort !== undefined && (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535))
    throw new TypeError(`command(): option masterPort must be an integer from 1 to 65535 (got ${String(masterPort)})`);
  if (
    placementTimeoutMs !== undefined &&
    (typeof placementTimeoutMs !== 'number' || !Number.isFinite(placementTimeoutMs) || placementTimeoutMs < 0)
  )
    throw new TypeError(
      `command(): option placementTimeoutMs must be a finite number >= 0 (got ${String(placementTimeoutMs)})`,
    );
  const r = rest as TaskOptions;
  for (const k of ['schedulingStrategy', 'labelSelector', 'accelerator'] as const) {
    if (r[k] !== undefined)
      throw new TypeError(
        `command(): option ${k} cannot be combined with nodes (a gang places its ranks itself, one per node of its backend); use backend and resources instead`,
      );
  }
  return { gang: { nodes, ranks, masterPort, placementTimeoutMs }, rest };
}

/** The coordinator's plan for a gang of `gang.nodes` ranks running a command with these task options. */
export function gangPlan(name: string, gang: GangOptions, task: TaskOptions, spec: CommandSpec): GangPlan {
  const size = gang.nodes!;
  const normalized = normalizeTaskOptions({ ...task, name }, 'command()');
  const bundle = amountsOf(normalized.resources);
  // A bundle needs some resource; a command asking for none still takes a node of its own.
  if (Object.values(bundle).every((v) => v <= 0)) bundle.CPU = 0.0001;
  const { name: _n, maxRetries: _m, retryExceptions: _r, backend, ...rankOptions } = task;
  return {
    name,
    size,
    bundle,
    backend,
    rankOptions,
    spec,
    allRanks: gang.ranks === 'all',
    masterPort: gang.masterPort,
    placementTimeoutMs: gang.placementTimeoutMs ?? DEFAULT_PLACEMENT_TIMEOUT_MS,
    rankEnvs: Array.from({ length: size }, (_, i) => rankEnv(i, size)),
  };
}

const COORDINATOR = shipCode(runGang);

/** Submits the gang's coordinator: one zero-CPU task whose result is the gang's. */
export function submitGang(call: CommandCall, plan: GangPlan): ObjectRef<GangResult> {
  const fn = new RemoteFunction<[CommandCall, GangPlan], GangResult>(
    COORDINATOR,
    { name: plan.name, numCpus: 0, maxRetries: 0 },
    'command',
  );
  return fn.remote(call, plan);
}
