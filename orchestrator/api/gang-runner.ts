/**
 * The coordinator of a `command({ nodes: N })` gang (api/command-gang.ts). It travels to a
 * worker as source text like any task, so it captures nothing: it reaches Orrery through
 * `import('orrery-compute')` and nests its helpers.
 *
 * 1. Reserve N bundles (the command's resources) on N distinct nodes of the command's backend:
 *    a STRICT_SPREAD placement group, all or nothing. An infeasible group fails the gang at
 *    once, one not ready within `placementTimeoutMs` fails it then (GangPlacementError).
 * 2. On rank 0's bundle, a probe task picks MASTER_PORT (a port free there) and reports the
 *    node's host name; MASTER_ADDR is the node's `orrery.io/address` label, else that name.
 * 3. One command task per bundle (rank i on bundle i), none retried.
 * 4. The first rank to fail stops the others (cancel) and fails the gang with its error,
 *    prefixed with the rank and node; cancelling the gang cancels every rank.
 * 5. The placement group is removed, whatever happened.
 */
import type { CommandCall, CommandResult, GangPlan, GangResult } from './command-types.ts';

/** Runs the gang described by `plan` and returns rank 0's result (with every rank's when asked). */
export async function runGang(call: CommandCall, plan: GangPlan): Promise<GangResult> {
  const orrery = await import('orrery-compute');
  const signal = orrery.getRuntimeContext().signal;
  const started = performance.now();
  const backend = plan.backend ?? '';
  const bundles = Array.from({ length: plan.size }, () => ({ ...plan.bundle }));
  const pg = orrery.placementGroup(bundles, {
    strategy: 'STRICT_SPREAD',
    name: `${plan.name} gang`,
    ...(plan.backend === undefined ? {} : { backend: plan.backend }),
  });
  const refs: { ref: import('orrery-compute').ObjectRef<CommandResult>; rank: number }[] = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all(refs.map((r) => orrery.cancel(r.ref).catch(() => undefined)));
  };
  const onAbort = () => void stopAll();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // 1. Every node at once, or a clear error.
    const deadline = Date.now() + plan.placementTimeoutMs;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (await pg.wait(Math.max(0, Math.min(250, deadline - Date.now())))) break;
      const [row] = await orrery.state.listPlacementGroups({ filters: [['placementGroupId', '=', pg.id]] });
      if (row?.infeasibleReason)
        throw new orrery.GangPlacementError(plan.name, plan.size, backend, true, `it needs ${row.infeasibleReason}`);
      if (Date.now() >= deadline)
        throw new orrery.GangPlacementError(
          plan.name,
          plan.size,
          backend,
          false,
          `its ${plan.size} nodes were not all free within placementTimeoutMs (${plan.placementTimeoutMs} ms)`,
        );
    }
    const [row] = await orrery.state.listPlacementGroups({ filters: [['placementGroupId', '=', pg.id]] });
    const nodeOf = (rank: number) => row?.bundles[rank]?.nodeId ?? '';
    // 2. Where rank 0 listens.
    const probe = orrery.remote(
      {
        name: `${plan.name} master`,
        numCpus: 0,
        maxRetries: 0,
        schedulingStrategy: { placementGroup: pg, bundleIndex: 0 },
      },
      async (fixed: number | null) => {
        const os = await import('node:os');
        const net = await import('node:net');
        const port =
          fixed ??
          (await new Promise<number>((resolve, reject) => {
            const server = net.createServer();
            server.once('error', reject);
            server.listen(0, () => {
              const a = server.address();
              server.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
            });
          }));
        return { hostname: os.hostname(), port };
      },
    );
    const master = await orrery.get(probe.remote(plan.masterPort ?? null));
    const nodeRows = await orrery.nodes();
    const addressOf = (nodeId: string) => nodeRows.find((n) => n.nodeId === nodeId)?.labels['orrery.io/address'];
    const masterAddr = addressOf(nodeOf(0)) || master.hostname;
    // 3. One rank per node.
    for (let rank = 0; rank < plan.size; rank++) {
      const fn = orrery.command({
        ...plan.rankOptions,
        name: `${plan.name}[${rank}]`,
        maxRetries: 0,
        outputs: rank === 0 || plan.allRanks ? plan.spec.outputs : [],
        ...(plan.spec.image === undefined ? {} : { image: plan.spec.image }),
        schedulingStrategy: { placementGroup: pg, bundleIndex: rank },
      });
      const env = {
        ...call.env,
        ...plan.rankEnvs[rank],
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(master.port),
      };
      refs.push({ ref: fn.remote({ ...call, env }), rank });
    }
    // 4. Wait for all; the first failure stops the rest.
    const results: CommandResult[] = [];
    let pending = refs.map((r) => r.ref);
    while (pending.length > 0) {
      const { ready, notReady } = await orrery.wait(pending, { numReturns: 1 });
      pending = notReady;
      for (const ref of ready) {
        const rank = refs.find((r) => r.ref === ref)!.rank;
        try {
          results[rank] = await orrery.get(ref);
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          await stopAll();
          const nodeId = nodeOf(rank);
          const where = `rank ${rank} of ${plan.size} (node ${nodeId}${addressOf(nodeId) ? `, ${addressOf(nodeId)}` : ''})`;
          if (err instanceof Error) {
            err.message = `${where}: ${err.message}`;
            Object.defineProperty(err, 'rank', { value: rank, enumerable: true, writable: true, configurable: true });
            Object.defineProperty(err, 'nodeId', {
              value: nodeId,
              enumerable: true,
              writable: true,
              configurable: true,
            });
            throw err;
          }
          throw new Error(`${where}: ${String(err)}`);
        }
      }
    }
    if (signal?.aborted) throw signal.reason;
    const first = results[0]!;
    return {
      ...first,
      durationMs: performance.now() - started,
      ...(plan.allRanks ? { ranks: results } : {}),
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    orrery.removePlacementGroup(pg);
  }
}
