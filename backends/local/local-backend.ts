/** The local backend: node agents as child processes of the head, speaking over stdio. */
import type { Backend, BackendConfigBase, BackendHost, LocalNode } from '../types.ts';
import type { ObjectTransferMode } from '../../orchestrator/protocol/agent-spec.ts';

export type { LocalNode } from '../types.ts';

/** Config of a local backend (`kind: 'local'`). */
export interface LocalBackendConfig extends BackendConfigBase {
  readonly kind: 'local';
  readonly numCpus?: number;
  readonly numGpus?: number;
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Bytes of large values each node keeps in memory before spilling (default: 30% of RAM). */
  readonly objectStoreMemory?: number;
  /** How other nodes fetch this backend's nodes' objects: 'direct', 'relay' (through the head) or 'auto' (default). */
  readonly objectTransfer?: ObjectTransferMode;
  /** Address each node's object transfer server binds. */
  readonly transferBind?: string;
}

/** Runs agents as child processes on this machine. */
export class LocalBackend implements Backend {
  readonly kind = 'local';
  private host: BackendHost | undefined;
  private readonly nodes = new Set<LocalNode>();

  constructor(
    private readonly config: LocalBackendConfig,
    private readonly initialNodes = 1,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(host: BackendHost): Promise<void> {
    this.host = host;
    for (let i = 0; i < this.initialNodes; i++) await this.addNode(this.config, String(i));
  }

  /** Starts one more agent with these resources; `key` names a durable one (a service head finds it again). */
  async addNode(spec: Omit<LocalBackendConfig, 'name' | 'kind'>, key?: string): Promise<LocalNode> {
    if (!this.host) throw new Error(`backend ${this.name} is not started`);
    const { numCpus, numGpus, resources, labels, objectStoreMemory, objectTransfer, transferBind } = spec;
    const node = await this.host.startLocalAgent(
      { numCpus, numGpus, resources, labels, objectStoreMemory, objectTransfer, transferBind },
      undefined,
      key,
    );
    this.nodes.add(node);
    void node.exited.then(() => this.nodes.delete(node));
    return node;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.nodes].map((n) => n.kill()));
  }
}
