/** The local backend: node agents as child processes of the head, speaking over stdio. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AgentSpec, AgentStream, Backend, BackendConfigBase, BackendHost } from '../types.ts';

/** Config of a local backend (API.md `local`). */
export interface LocalBackendConfig extends BackendConfigBase {
  readonly kind: 'local';
  readonly numCpus?: number;
  readonly numGpus?: number;
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A started local node. */
export interface LocalNode {
  readonly nodeId: string;
  /** SIGKILLs the agent and its workers. */
  kill(): Promise<void>;
}

/** Runs agents as child processes on this machine. */
export class LocalBackend implements Backend {
  readonly kind = 'local';
  private host: BackendHost | undefined;
  private readonly nodes = new Set<LocalNode>();

  constructor(private readonly config: LocalBackendConfig, private readonly initialNodes = 1) {}

  get name(): string {
    return this.config.name;
  }

  async start(host: BackendHost): Promise<void> {
    this.host = host;
    for (let i = 0; i < this.initialNodes; i++) await this.addNode(this.config);
  }

  /** Starts one more agent with these resources. */
  async addNode(spec: Omit<LocalBackendConfig, 'name' | 'kind'>): Promise<LocalNode> {
    const host = this.host;
    if (!host) throw new Error(`backend ${this.name} is not started`);
    const agent: AgentSpec = { ...spec, nodeId: randomBytes(8).toString('hex'), backend: this.name, headSocket: host.workerSocket };
    const proc = spawn(process.execPath, [...host.agentExecArgv, host.agentEntry], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ORRERY_AGENT: JSON.stringify(agent) },
      detached: true,
    });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const killTree = () => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        proc.kill('SIGKILL');
      }
    };
    const stream: AgentStream = { input: proc.stdout!, output: proc.stdin!, kill: killTree };
    proc.stdin!.on('error', () => {});
    const node: LocalNode = {
      nodeId: agent.nodeId,
      kill: async () => {
        killTree();
        await exited;
      },
    };
    this.nodes.add(node);
    proc.once('exit', () => this.nodes.delete(node));
    await host.attach(stream, agent);
    return node;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.nodes].map((n) => n.kill()));
  }
}
