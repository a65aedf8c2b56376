/**
 * What the suite's metrics mean, their targets, and how results are shown: a table with
 * Orrery's value, each peer's, the ratios and the target status, or (`--json`) one object per
 * measured line, Orrery's carrying the same comparisons as fields.
 */

/** One measured line, as every workload prints it. */
export interface ResultLine {
  readonly metric: string;
  readonly value: number | null;
  readonly unit: string;
  readonly system: string;
  readonly [field: string]: unknown;
}

/** A metric's meaning and, where it has one, its target for Orrery. */
interface MetricInfo {
  readonly metric: string;
  /** The Ray microbenchmark this mirrors. */
  readonly ray?: string;
  readonly definition: string;
  readonly target?: { readonly op: '>=' | '<='; readonly value: number };
}

export const PEERS = ['ray', 'dask', 'child_process', 'quantum-circuit', 'dd'] as const;

const METRICS: readonly MetricInfo[] = [
  {
    metric: 'single_client_tasks_sync',
    ray: 'single_client_tasks_sync',
    definition: 'submit one no-op task and get its result, one at a time',
    target: { op: '>=', value: 4000 },
  },
  {
    metric: 'single_client_tasks_async',
    ray: 'single_client_tasks_async',
    definition: 'submit a batch of no-op tasks (1000; 200 with --quick), then get them all',
    target: { op: '>=', value: 20000 },
  },
  {
    metric: 'actor_calls_sync_1_1',
    ray: '1_1_actor_calls_sync',
    definition: 'one caller, one actor: call a no-op method and get it, one at a time',
    target: { op: '>=', value: 4000 },
  },
  {
    metric: 'actor_calls_async_1_1',
    ray: '1_1_actor_calls_async',
    definition: 'one caller, one actor: submit a batch of calls (1000; 200 with --quick), then get them all',
    target: { op: '>=', value: 20000 },
  },
  {
    metric: 'single_client_wait_1k_refs',
    ray: 'single_client_wait_1k_refs',
    definition:
      'rounds/s; a round submits 1000 no-op tasks (100 with --quick), then calls wait(notReady) until every ref is ready',
  },
  {
    metric: 'put_get_gigabytes',
    ray: 'single_client_put_gigabytes (+ get)',
    definition:
      'GB/s = array size in GB (0.1) / seconds per round trip; a round trip puts a 100 MB Float64Array (10 MB with --quick), passes it through an identity task and gets it back; every system measures it on a fresh runtime',
    target: { op: '>=', value: 1.5 },
  },
  {
    metric: 'tasks_queued_1m_rss_mb',
    ray: 'many_tasks (1M queued)',
    definition:
      "driver RSS in MiB with 1,000,000 no-op tasks (10,000 with --quick) queued behind a task that holds the node's only CPU",
    target: { op: '<=', value: 1500 },
  },
  {
    metric: 'shutdown_with_queued_tasks_s',
    definition:
      'seconds shutdown() takes with 100,000 no-op tasks (10,000 with --quick) queued that way; it cancels them',
  },
  {
    metric: 'local_tasks_async',
    definition: 'no-op tasks pinned to the local backend (peer of ssh_tasks_async in the same run)',
  },
  {
    metric: 'ssh_tasks_async',
    definition: 'no-op tasks through the ssh backend (loopback sshd, agent relay); target: >= 50% of local_tasks_async',
  },
  { metric: 'local_task_round_trip_ms', definition: 'one no-op task submitted and got, local backend' },
  { metric: 'ssh_task_round_trip_ms', definition: 'one no-op task submitted and got, ssh backend' },
  { metric: 'slurm_first_task_s', definition: 'first demand to first task done on a new Slurm allocation' },
  {
    metric: 'placement_group_create_removal',
    ray: 'placement_group_create/removal',
    definition:
      'groups/s: rounds of 100 one-bundle SPREAD groups, each created and waited on, then all removed (Ray: 872/s)',
  },
  {
    metric: 'single_client_get_object_containing_10k_refs',
    ray: 'single_client_get_object_containing_10k_refs',
    definition: 'gets/s of one object holding 10,000 refs (Ray: 13.3/s)',
  },
  {
    metric: 'object_spill_throughput',
    definition:
      'MB/s writing a 1 GiB object to the spill directory under a 256 MiB store budget; the dd line is `dd bs=1M count=1024 conv=fdatasync` to the same directory',
  },
  { metric: 'object_restore_throughput', definition: 'MB/s reading the spilled 1 GiB object back on get' },
  {
    metric: 'node_to_node_direct_gigabytes',
    definition:
      'GB/s of a task on one local agent consuming a 1 GiB value made on another, fetched agent to agent (timed from submit to result: transfer plus handing the value to the worker)',
  },
  {
    metric: 'node_to_node_direct_transfer_gigabytes',
    definition: 'GB/s of the agent-to-agent transfer alone of that 1 GiB value (State API directMs)',
  },
  {
    metric: 'node_to_node_direct_head_bytes',
    definition: 'bytes of that 1 GiB value that passed through the head (about zero when direct)',
    target: { op: '<=', value: 1024 * 1024 },
  },
  {
    metric: 'node_to_node_relay_gigabytes',
    definition: "the same 1 GiB move with objectTransfer: 'relay' (through the head), for comparison",
  },
  { metric: 'node_to_node_relay_head_bytes', definition: 'bytes of that value through the head when relayed' },
  {
    metric: 'node_to_node_shm_gigabytes',
    definition:
      'the same 1 GiB move between two local agents that share memory with the head (auto: a file link, no copy)',
  },
  {
    metric: 'node_to_node_ssh_direct_gigabytes',
    definition: '1 GiB made on an ssh node (the loopback sshd) and consumed on a local node, fetched directly',
  },
  {
    metric: 'large_value_round_trip_s',
    definition:
      'seconds for put() of a 3 GiB Uint8Array (256 MiB with --quick), an identity task on the local node and get() (past one 2 GiB frame)',
  },
  {
    metric: 'large_value_driver_peak_rss_mib',
    definition:
      "peak RSS (VmHWM) of the driver with its embedded head in that round trip, the caller's 3 GiB array included",
  },
  { metric: 'large_value_agent_peak_rss_mib', definition: 'peak RSS of the node agent in that round trip' },
  { metric: 'large_value_worker_peak_rss_mib', definition: 'peak RSS of the largest worker in that round trip' },
  {
    metric: 'quantum_sim_20q_depth20_s',
    definition:
      'seconds to simulate a 20-qubit, depth-20 random circuit (a random 1-qubit gate on every qubit, then cx/cz on random pairs, per layer) on the state-vector simulator',
  },
  {
    metric: 'quantum_sim_16q_depth20_s',
    definition:
      'the same kind of circuit at 16 qubits, on Orrery and on the npm simulator quantum-circuit (which needs ~20 min at 20 qubits)',
  },
  {
    metric: 'quantum_sim_speedup_vs_quantum_circuit',
    definition: 'quantum-circuit time / Orrery time on the same circuit',
    target: { op: '>=', value: 20 },
  },
  {
    metric: 'quantum_sim_max_qubits_8gib',
    definition:
      'the largest state that fits in 8 GiB (16 bytes per amplitude); a GHZ circuit of the largest size that fits here is simulated for real',
  },
  {
    metric: 'quantum_transpile_27q_heavy_hex_s',
    definition:
      'seconds to transpile a 27-qubit, depth-20 random layered circuit onto the heavy-hex ibm_fake_kolkata (layout, SWAP routing, translation to its basis)',
  },
  {
    metric: 'estimator_sim_exact_per_s',
    definition:
      "Estimator tasks' worker-side work on the simulator, in-process: parse a 4-qubit, 8-angle ansatz, check a 5-term Hamiltonian, exact expectation from the state vector (bench/estimator-bench.ts)",
  },
  {
    metric: 'estimator_sim_sampled_per_s',
    definition: 'the same with 1000 shots per measurement basis (3 qubit-wise commuting bases), stds from the samples',
  },
  {
    metric: 'scheduler_decisions_per_s',
    definition:
      'ClusterScheduler alone, in-process: 100k one-CPU tasks placed on 1000 simulated 8-CPU nodes (bench/scheduler-bench.ts)',
  },
];

const KNOWN = new Map(METRICS.map((m) => [m.metric, m]));

function find(results: readonly ResultLine[], metric: string, system: string): ResultLine | undefined {
  return results.find((r) => r.metric === metric && r.system === system);
}

function ratio(a: ResultLine | undefined, b: ResultLine | undefined): number | undefined {
  if (!a || !b || a.value === null || b.value === null || b.value === 0 || a.unit === 'MiB') return undefined;
  return a.value / b.value;
}

function targetMet(info: MetricInfo | undefined, r: ResultLine | undefined): boolean | undefined {
  if (!info?.target || !r || r.value === null) return undefined;
  return info.target.op === '>=' ? r.value >= info.target.value : r.value <= info.target.value;
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

function metricOrder(results: readonly ResultLine[]): string[] {
  const seen = new Set(METRICS.map((m) => m.metric));
  return [
    ...METRICS.map((m) => m.metric),
    ...results
      .map((r) => r.metric)
      .filter((m) => {
        if (seen.has(m)) return false;
        seen.add(m);
        return true;
      }),
  ];
}

/** Orrery's lines with target and ratio fields added; peers' lines unchanged. */
export function enrich(results: readonly ResultLine[]): ResultLine[] {
  return results.map((r) => {
    if (r.system !== 'orrery') return r;
    const info = KNOWN.get(r.metric);
    const extra: Record<string, unknown> = {};
    if (info?.target) {
      extra.target = `${info.target.op} ${info.target.value}`;
      extra.target_met = targetMet(info, r);
    }
    for (const peer of PEERS) {
      const q = ratio(r, find(results, r.metric, peer));
      if (q !== undefined) extra[`orrery_over_${peer}`] = q;
    }
    return { ...r, ...extra };
  });
}

/** The readable table, definitions and notes. */
export function formatTable(
  results: readonly ResultLine[],
  header: readonly string[],
  problems: readonly string[],
): string {
  const rows: string[][] = [
    ['metric', 'unit', 'orrery', ...PEERS, ...PEERS.map((p) => `orrery/${p}`), 'target', 'status'],
  ];
  for (const metric of metricOrder(results)) {
    const o = find(results, metric, 'orrery');
    const peers = PEERS.map((p) => find(results, metric, p));
    if (!o && peers.every((p) => !p)) continue;
    const info = KNOWN.get(metric);
    const met = targetMet(info, o);
    const ratios = peers.map((p) => ratio(o, p));
    rows.push([
      metric,
      (o ?? peers.find(Boolean))!.unit,
      fmt(o?.value),
      ...peers.map((p) => fmt(p?.value)),
      ...ratios.map((q) => (q === undefined ? '-' : `${fmt(q)}x`)),
      info?.target ? `${info.target.op} ${info.target.value.toLocaleString('en-US')}` : '-',
      met === undefined ? '-' : met ? 'met' : 'MISSED',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i >= 2 && i <= 2 + 2 * PEERS.length ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const out = [...header, '', ...lines, '', 'Definitions:'];
  for (const m of METRICS)
    if (results.some((r) => r.metric === m.metric))
      out.push(`  ${m.metric}: ${m.definition}${m.ray ? ` (Ray: ${m.ray})` : ''}`);
  out.push('', 'How each system measured it:');
  const byNote = new Map<string, string[]>();
  for (const r of results) {
    if (typeof r.note !== 'string') continue;
    const key = `[${r.system}] \u0000${r.note}`;
    byNote.set(key, [...(byNote.get(key) ?? []), r.metric]);
  }
  for (const [key, metrics] of byNote) {
    const [system, note] = key.split('\u0000');
    out.push(`  ${system}${metrics.join(', ')}: ${note}`);
  }
  for (const p of problems) out.push('', `!!! ${p}`);
  return out.join('\n');
}
