/**
 * `orrery-compute/testing`: LocalCluster starts an embedded head and several local agents with chosen
 * resources and labels on one machine (Ray's cluster_utils.Cluster), so multi-node scheduling
 * and node death can be tested for real.
 */
import { LocalBackend, type LocalBackendConfig, type LocalNode } from '../../backends/local/local-backend.ts';
import { ElasticLocalBackend, type ElasticLocalConfig } from '../../backends/local/elastic-local-backend.ts';
import { Head, type HeadOptions } from '../head/head.ts';

/** Options of a node added to a LocalCluster (the `local` backend config keys). */
export type NodeOptions = Omit<LocalBackendConfig, 'name' | 'kind'>;

/** Several local nodes behind one embedded head. */
export class LocalCluster {
  private constructor(
    readonly head: Head,
    private readonly backend: LocalBackend,
  ) {}

  /** Starts an embedded head with no nodes yet. */
  static async start(opts: HeadOptions = {}): Promise<LocalCluster> {
    const head = new Head(opts);
    const backend = new LocalBackend({ name: 'local', kind: 'local' }, 0);
    await head.addBackend(backend);
    return new LocalCluster(head, backend);
  }

  /** Starts a node agent (a child process with its workers); resolves once it joined. */
  addNode(opts: NodeOptions = {}): Promise<LocalNode> {
    return this.backend.addNode({ numCpus: 1, numGpus: 0, ...opts });
  }

  /**
   * Adds an elastic backend that starts local nodes of `node`'s shape when work that fits is
   * pending (up to `maxNodes`) and retires them after `idleTimeoutMs` without work.
   */
  async addElasticBackend(config: ElasticLocalConfig): Promise<ElasticLocalBackend> {
    const b = new ElasticLocalBackend(config);
    await this.head.addBackend(b);
    return b;
  }

  /** Stops the head and every node. */
  shutdown(): Promise<void> {
    return this.head.shutdown();
  }
}
