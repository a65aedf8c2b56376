/**
 * `GET /metrics`: the head in Prometheus' text exposition format, made with prom-client (its
 * own registry, never the library's global one). Values are read from the head when scraped:
 * tasks by state, finished and failed tasks, the queue, nodes per backend, each node's CPU,
 * memory, GPUs and QPU slots (the latest usage sample), object store bytes, and cost.
 * Scraping needs the head's token as `Authorization: Bearer` (http-api.ts checks it); a
 * dashboard cookie or a token in the URL is refused.
 */
import type { ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ReadonlyTask } from '../control/task-record.ts';
import type { Head } from '../head/head.ts';
import type { CostSummary, NodeUsageSample } from '../protocol/state-rows.ts';
import { liveCost } from './dashboard-monitoring.ts';

/** Where the metrics are served (outside /api/, where Prometheus looks by default). */
export const METRICS_PATH = '/metrics';

/** What one scrape reads from the head, once, for every metric. */
interface Scrape {
  readonly byState: Map<string, number>;
  readonly nodesByBackend: Map<string, number>;
  readonly usage: readonly (NodeUsageSample & { readonly backend: string })[];
  readonly cost: CostSummary;
}

const PENDING = new Set(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT']);

/** The head's metrics registry. */
export class HeadMetrics {
  readonly registry = new Registry();
  private scrape: Scrape | undefined;
  private finished = 0;
  private failed = 0;
  /** Tasks already counted as ended (weak: the table lets old ones go). */
  private readonly counted = new WeakSet<object>();

  constructor(private readonly head: Head) {
    const r = this.registry;
    const s = () => this.scrape!;
    collectDefaultMetrics({ register: r, prefix: 'orrery_head_' });
    new Gauge({
      name: 'orrery_tasks',
      help: 'Tasks the head keeps, by state.',
      labelNames: ['state'],
      registers: [r],
      collect() {
        this.reset();
        for (const [state, n] of s().byState) this.set({ state }, n);
      },
    });
    // Counted as tasks end (the table drops old finished tasks, so counting it could go down).
    for (const t of head.queries.tasks()) this.ended(t);
    head.events.subscribe({ taskChanged: (t) => this.ended(t) });
    const counted = (name: string, help: string, value: () => number) =>
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    counted('orrery_tasks_finished_total', 'Tasks that finished.', () => this.finished);
    counted('orrery_tasks_failed_total', 'Tasks that failed (cancelled ones included).', () => this.failed);
    new Gauge({
      name: 'orrery_queue_length',
      help: 'Tasks waiting for their arguments or for a node.',
      registers: [r],
      collect() {
        let n = 0;
        for (const [state, c] of s().byState) if (PENDING.has(state)) n += c;
        this.set(n);
      },
    });
    new Gauge({
      name: 'orrery_nodes',
      help: 'Live nodes, by backend.',
      labelNames: ['backend'],
      registers: [r],
      collect() {
        this.reset();
        for (const [backend, n] of s().nodesByBackend) this.set({ backend }, n);
      },
    });
    const perNode = (name: string, help: string, value: (u: NodeUsageSample) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['node', 'backend'],
        registers: [r],
        collect() {
          this.reset();
          for (const u of s().usage) {
            const v = value(u);
            if (v !== undefined) this.set({ node: u.nodeId, backend: u.backend }, v);
          }
        },
      });
    perNode('orrery_node_cpu_ratio', "Fraction of the node machine's CPU time busy (0-1).", (u) => u.cpu);
    perNode('orrery_node_memory_used_bytes', "Memory in use on the node's machine.", (u) => u.memUsedBytes);
    perNode('orrery_node_memory_total_bytes', "Memory of the node's machine.", (u) => u.memTotalBytes);
    perNode('orrery_node_gpus', 'GPUs nvidia-smi lists on the node.', (u) => u.gpus);
    perNode('orrery_node_gpu_utilization_ratio', "Mean utilisation of the node's GPUs (0-1).", (u) =>
      u.gpuUtil === undefined ? undefined : u.gpuUtil / 100,
    );
    perNode('orrery_node_gpu_memory_used_bytes', "GPU memory in use, over the node's GPUs.", (u) =>
      u.gpuMemUsedMb === undefined ? undefined : u.gpuMemUsedMb * 1024 * 1024,
    );
    perNode('orrery_node_gpu_memory_total_bytes', "GPU memory, over the node's GPUs.", (u) =>
      u.gpuMemTotalMb === undefined ? undefined : u.gpuMemTotalMb * 1024 * 1024,
    );
    perNode('orrery_node_qpu_slots_used', 'QPU slots in use on a quantum backend node.', (u) => u.qpuUsed);
    perNode('orrery_node_qpu_slots', 'QPU slots of a quantum backend node.', (u) => u.qpuTotal);
    perNode('orrery_node_queued_tasks', "Circuit tasks waiting in the quantum service's queue.", (u) => u.queued);
    new Gauge({
      name: 'orrery_object_store_bytes',
      help: "Bytes of object values in the head's memory.",
      registers: [r],
      collect() {
        this.set(head.queries.objectStoreBytes().usedBytes);
      },
    });
    new Counter({
      name: 'orrery_object_store_spilled_bytes_total',
      help: 'Bytes of object values spilled to disk so far.',
      registers: [r],
      collect() {
        this.reset();
        this.inc(head.queries.spillStats().spilledBytes);
      },
    });
    new Counter({
      name: 'orrery_cost_usd_total',
      help: 'Cost tasks reported so far (costUsd in their info), US dollars, by backend.',
      labelNames: ['backend'],
      registers: [r],
      collect() {
        this.reset();
        for (const b of s().cost.byBackend) this.inc({ backend: b.backend }, b.usd);
      },
    });
  }

  private ended(t: ReadonlyTask): void {
    if ((t.state !== 'FINISHED' && t.state !== 'FAILED') || this.counted.has(t)) return;
    this.counted.add(t);
    if (t.state === 'FINISHED') this.finished++;
    else this.failed++;
  }

  /** The exposition text, read from the head now. */
  async text(): Promise<string> {
    this.scrape = this.read();
    try {
      return await this.registry.metrics();
    } finally {
      this.scrape = undefined;
    }
  }

  /** Answers a scrape that passed the access check. */
  async serve(res: ServerResponse): Promise<void> {
    const body = await this.text();
    res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private read(): Scrape {
    const byState = new Map<string, number>();
    for (const t of this.head.queries.tasks()) byState.set(t.state, (byState.get(t.state) ?? 0) + 1);
    const nodesByBackend = new Map<string, number>();
    for (const id of this.head.queries.nodeIds()) {
      const b = this.head.queries.backendOfNode(id);
      nodesByBackend.set(b, (nodesByBackend.get(b) ?? 0) + 1);
    }
    const alive = new Set(this.head.queries.nodeIds());
    const usage = this.head.usage
      .latest()
      .filter((u) => alive.has(u.nodeId))
      .map((u) => ({ ...u, backend: this.head.queries.backendOfNode(u.nodeId) }));
    return { byState, nodesByBackend, usage, cost: liveCost(this.head) };
  }
}
