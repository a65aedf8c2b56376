/**
 * The backends of a head: each gets a BackendHost (how to start and attach agents), joins in
 * the order it was added, may be removed (its nodes leave, their tasks retry elsewhere), and is
 * shut down independently of the others (backend-shutdown.ts).
 */
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import type { Backend, BackendHost } from '../../backends/types.ts';
import type { BackendShutdownFailure } from '../core/errors.ts';
import { checkBackendConfigs } from './backend-configs.ts';
import { createBackend } from './backend-registry.ts';
import { shutDownBackends } from './backend-shutdown.ts';
import type { ClusterNodes } from './cluster-nodes.ts';
import { startLocalAgent } from './local-agent.ts';
import type { ModulePolicy } from './module-backends.ts';
import type { WorkerLinks } from './worker-links.ts';

const AGENT_ENTRY = fileURLToPath(
  new URL(`../agent/agent-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** What the backends of a head work with. */
export interface HeadBackendsDeps {
  readonly nodes: ClusterNodes;
  readonly links: WorkerLinks;
  /** Tells the scheduler the shapes an elastic backend could add (the Autoscaler's). */
  publishShapes(backend: Backend): void;
  /** A service head's agents outlive it (BackendHost.durable). */
  readonly durable: BackendHost['durable'];
  /** Where a client driver's `module:` backends may come from. */
  readonly driverModules: ModulePolicy;
  /** How long one backend's shutdown may take (default 30 s). */
  readonly shutdownTimeoutMs: number | undefined;
  log(line: string): void;
}

/** The backends of a head, by name. */
export class HeadBackends {
  private readonly backends = new Map<string, Backend>();

  constructor(private readonly d: HeadBackendsDeps) {}

  /** The backends, in the order they were added. */
  values(): IterableIterator<Backend> {
    return this.backends.values();
  }

  /** Starts a backend and its initial nodes. */
  async add(backend: Backend): Promise<void> {
    if (this.backends.has(backend.name))
      throw new Error(`a backend named "${backend.name}" already exists; backend names must be unique`);
    this.backends.set(backend.name, backend);
    this.d.publishShapes(backend);
    await backend.start(this.hostFor(backend.name));
    // Again: starting may have taught the backend more about its shapes (the Slurm login host's container runtimes).
    this.d.publishShapes(backend);
  }

  /** Adds the backends whose names are new (a client driver's `init({ backends })`); resolves with the names added. */
  async addFromDriver(configs: readonly unknown[]): Promise<string[]> {
    const added: string[] = [];
    for (const c of checkBackendConfigs(configs, 'add-backends', this.d.driverModules)) {
      if (this.backends.has(c.name as string)) continue;
      const backend = await createBackend(c, this.d.driverModules);
      await this.add(backend);
      added.push(backend.name);
    }
    if (added.length > 0)
      this.d.log(`orrery: a driver added backend${added.length > 1 ? 's' : ''} ${added.join(', ')}`);
    return added;
  }

  /** Stops backend `name` and removes it: its nodes leave (their tasks retry elsewhere). */
  async remove(name: string): Promise<void> {
    const backend = this.backends.get(name);
    if (!backend) throw new Error(`no backend named "${name}" on this head; see GET /api/backends`);
    this.backends.delete(name);
    await this.d.nodes.removeBackend(name);
    await backend.shutdown();
  }

  /** Shuts every backend down independently; resolves with those that threw or hung. */
  shutdownAll(): Promise<BackendShutdownFailure[]> {
    return shutDownBackends(this.backends.values(), this.d.shutdownTimeoutMs);
  }

  private hostFor(backend: string): BackendHost {
    const { nodes, links, durable } = this.d;
    const host: BackendHost = {
      agentEntry: AGENT_ENTRY,
      agentExecArgv: agentExecArgv(),
      workerSocket: links.path,
      attach: (stream, spec) => nodes.attach(stream, spec),
      log: (line) => this.d.log(line),
      retire: (nodeId) => nodes.retire(nodeId),
      startLocalAgent: (spec, env, key) =>
        startLocalAgent({ ...host, workerLinkSecret: links.secret }, backend, spec, env, key),
      durable,
    };
    return host;
  }
}

/**
 * Node flags for agents and workers: the driver's loader flags (tsx) carry over; flags that print
 * to stdout (the agent's protocol stream) or bind ports (--inspect) do not.
 */
function agentExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(inspect|trace|prof|cpu-prof|heap-prof|debug|print|eval|test)/.test(a));
}
