/**
 * An elastic local backend: starts local agents of one shape when the scheduler has demand that
 * fits it, up to `maxNodes`, and retires nodes idle for `idleTimeoutMs`. It exists so the
 * autoscaling path (demand -> new node -> task runs -> idle -> removed) is tested for real.
 */
import type { Backend, BackendHost, ElasticBackend, IdleNode, NodeShape, ResourceDemand } from '../types.ts';
import { containerRuntimesOnPath } from '../../orchestrator/core/container-runtimes.ts';
import { containerLabels } from '../../orchestrator/core/node-labels.ts';
import { demandFitsShape, nodesNeeded } from '../../orchestrator/core/shape-fit.ts';
import { LocalBackend, type LocalBackendConfig, type LocalNode } from './local-backend.ts';

/** Config of the elastic local backend. */
export interface ElasticLocalConfig {
  readonly name: string;
  /** The node every scale-up starts. */
  readonly node: Omit<LocalBackendConfig, 'name' | 'kind'>;
  readonly maxNodes: number;
  readonly idleTimeoutMs: number;
}

/** Local agents on demand. */
export class ElasticLocalBackend implements Backend, ElasticBackend {
  readonly kind = 'local-elastic';
  readonly elastic = this;
  private readonly local: LocalBackend;
  private host: BackendHost | undefined;
  private readonly nodes = new Map<string, LocalNode>();
  private starting = 0;
  /** How many nodes were started in all (for tests and `status`). */
  started = 0;

  constructor(private readonly config: ElasticLocalConfig) {
    this.local = new LocalBackend({ name: config.name, kind: 'local' }, 0);
  }

  get name(): string {
    return this.config.name;
  }

  async start(host: BackendHost): Promise<void> {
    this.host = host;
    await this.local.start(host);
  }

  shapes(): readonly NodeShape[] {
    const n = this.config.node;
    const resources: Record<string, number> = { CPU: n.numCpus ?? 1, ...n.resources };
    if (n.numGpus) resources.GPU = n.numGpus;
    // The nodes it starts are on this machine: they will find its container runtimes (node-agent.ts).
    return [{ resources, labels: { ...containerLabels(containerRuntimesOnPath()), ...n.labels } }];
  }

  scale(demand: readonly ResourceDemand[], idle: readonly IdleNode[]): void {
    const [shape] = this.shapes();
    const fitting = demand.filter((d) => demandFitsShape(d, shape!, this.name));
    const room = this.config.maxNodes - this.nodes.size - this.starting;
    const needed = nodesNeeded(fitting, this.perNode(demand)) - this.starting;
    for (let i = 0; i < Math.min(room, needed); i++) void this.addNode();
    for (const n of idle) {
      if (n.idleMs < this.config.idleTimeoutMs || !this.nodes.has(n.nodeId)) continue;
      const node = this.nodes.get(n.nodeId)!;
      this.nodes.delete(n.nodeId);
      this.host?.retire(n.nodeId);
      void node.kill();
    }
  }

  /** How many of the demanded tasks one node can hold (by CPU), at least 1. */
  private perNode(demand: readonly ResourceDemand[]): number {
    const cpu = this.config.node.numCpus ?? 1;
    const need = Math.max(...demand.map((d) => d.resources.CPU ?? 0), 0);
    return need > 0 ? Math.max(1, Math.floor(cpu / need)) : cpu;
  }

  private async addNode(): Promise<void> {
    this.starting++;
    this.started++;
    try {
      const node = await this.local.addNode(this.config.node);
      this.nodes.set(node.nodeId, node);
    } catch (err) {
      this.host?.log(`orrery: backend ${this.name} could not start a node: ${(err as Error).message}`);
    } finally {
      this.starting--;
    }
  }

  /** Live node count. */
  get size(): number {
    return this.nodes.size;
  }

  async shutdown(): Promise<void> {
    await this.local.shutdown();
  }
}
