/**
 * The slurm backend: an elastic backend on an existing cluster manager. When the scheduler has
 * demand that fits an allocation's shape, it runs `srun ... node agent-main.mjs` through an SSH
 * session on the login host; srun forwards stdio, so the agent on the compute node speaks the
 * protocol through srun and SSH. Idle allocations are released; `scancel` on shutdown.
 */
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { BackendError } from '../../orchestrator/core/errors.ts';
import type { AgentSpec, Backend, BackendHost, ElasticBackend, IdleNode, NodeShape, ResourceDemand } from '../types.ts';
import { agentBundle } from '../transport/ssh/agent-bundle.ts';
import { SshConnection, connectWithBackoff } from '../transport/ssh/connection.ts';
import { connectOptionsFor, forwardStderr, targetFor } from '../transport/ssh/login.ts';
import { checkRemoteNode, ensureBundle, shellQuote } from '../transport/ssh/remote-agent.ts';
import { gpuModelOf, gpusOf, type SlurmBackendConfig } from './config.ts';

/** One allocation: a Slurm job running one agent. */
interface Allocation {
  readonly nodeId: string;
  readonly jobName: string;
  channel: ClientChannel | undefined;
  joined: boolean;
}

/** Allocations on a Slurm cluster, on demand. */
export class SlurmBackend implements Backend, ElasticBackend {
  readonly kind = 'slurm';
  readonly elastic = this;
  private host: BackendHost | undefined;
  private conn: SshConnection | undefined;
  private connecting: Promise<SshConnection> | undefined;
  private entry: string | undefined;
  private readonly allocations = new Map<string, Allocation>();
  private stopping = false;
  /** Allocations requested so far (for tests and the benchmark). */
  requested = 0;

  constructor(private readonly config: SlurmBackendConfig) {}

  get name(): string {
    return this.config.name;
  }

  /** Connects to the login host, checks Node and places the agent bundle; allocates nothing yet. */
  async start(host: BackendHost): Promise<void> {
    this.host = host;
    await this.connection();
  }

  shapes(): readonly NodeShape[] {
    const c = this.config;
    const resources: Record<string, number> = { CPU: c.cpusPerNode ?? 1, ...c.resources };
    const gpus = gpusOf(c.gres) ?? 0;
    if (gpus > 0) resources.GPU = gpus;
    const labels: Record<string, string> = { ...c.labels };
    const model = gpuModelOf(c.gres);
    if (model) labels.accelerator = model;
    if (c.partition) labels['slurm.partition'] = c.partition;
    return [{ resources, labels }];
  }

  scale(demand: readonly ResourceDemand[], idle: readonly IdleNode[]): void {
    if (this.stopping) return;
    const [shape] = this.shapes();
    let fitting = 0;
    for (const d of demand) {
      const fitsResources = Object.entries(d.resources).every(([k, v]) => (shape!.resources[k] ?? 0) >= v);
      const fitsLabels = Object.entries(d.labelSelector ?? {}).every(([k, v]) => (v.startsWith('!') || v.includes('(') ? true : shape!.labels[k] === v));
      if (fitsResources && fitsLabels) fitting += d.count;
    }
    const starting = [...this.allocations.values()].filter((a) => !a.joined).length;
    const room = (this.config.maxNodes ?? 1) - this.allocations.size;
    const perNode = Math.max(1, Math.floor((shape!.resources.CPU ?? 1) / Math.max(1, ...demand.map((d) => d.resources.CPU ?? 1))));
    const wanted = Math.min(room, Math.ceil(fitting / perNode) - starting);
    for (let i = 0; i < wanted; i++) void this.allocate();
    const idleMs = (this.config.idleTimeoutS ?? 300) * 1000;
    for (const n of idle) {
      const a = this.allocations.get(n.nodeId);
      if (a && a.joined && n.idleMs >= idleMs) this.release(a, 'idle');
    }
  }

  /** `orrery backends test`: login host, host key, Node, bundle, and the partition as sinfo sees it. */
  async check(): Promise<string[]> {
    const conn = await this.connection();
    try {
      return await this.checkOn(conn);
    } finally {
      if (!this.host) {
        conn.close('check done');
        this.conn = undefined;
      }
    }
  }

  private async checkOn(conn: SshConnection): Promise<string[]> {
    const c = this.config;
    const lines = [`${c.loginHost}: connected; host key ${conn.hostKey}`];
    lines.push(`${c.loginHost}: node ${await checkRemoteNode(conn, c.nodePath ?? 'node', c.name)}`);
    const partition = c.partition ? `-p ${shellQuote(c.partition)}` : '';
    const out = await conn.run(`sinfo -h ${partition} -o '%P %a %D %c %m %G'`);
    if (out.code === 127) throw new BackendError(c.name, `sinfo is not on the PATH of a non-interactive SSH session on ${c.loginHost}; is this a Slurm login node?`, false);
    if (out.code !== 0) throw new BackendError(c.name, `sinfo failed on ${c.loginHost}: ${out.stderr.trim()}`, false);
    const rows = out.stdout.trim().split('\n').filter(Boolean);
    if (rows.length === 0) throw new BackendError(c.name, `partition ${c.partition} does not exist on ${c.loginHost}; sinfo lists the partitions there`, false);
    for (const r of rows) {
      const [name, avail, nodes, cpus, mem, gres] = r.split(' ');
      lines.push(`partition ${name}: ${avail}, ${nodes} node(s), ${cpus} CPUs and ${mem} MB each, gres ${gres}`);
      if (avail !== 'up') throw new BackendError(c.name, `partition ${name} is ${avail}; allocations would never start`, true);
    }
    return lines;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const all = [...this.allocations.values()];
    if (all.length > 0 && this.conn && !this.conn.isClosed) {
      await this.conn.run(`scancel --name=${all.map((a) => a.jobName).join(',')}`).catch(() => undefined);
    }
    for (const a of all) a.channel?.close();
    this.allocations.clear();
    this.conn?.close('the backend shut down');
  }

  /** The live login connection, reconnecting with backoff when it dropped. */
  private async connection(): Promise<SshConnection> {
    if (this.conn && !this.conn.isClosed) return this.conn;
    this.connecting ??= (async () => {
      const c = this.config;
      const opts = connectOptionsFor(c, targetFor(c, c.loginHost));
      const conn = this.conn
        ? await connectWithBackoff(() => SshConnection.open(opts), {
            stopped: () => this.stopping,
            onRetry: (err, delayMs) => this.host?.log(`orrery: slurm backend ${c.name}: ${err.message}; retrying in ${Math.round(delayMs / 1000)} s`),
          })
        : await SshConnection.open(opts);
      await checkRemoteNode(conn, c.nodePath ?? 'node', c.name);
      const placed = await ensureBundle(conn, await agentBundle(), c.name);
      if (placed.uploaded) this.host?.log(`orrery: slurm backend ${c.name}: uploaded the agent bundle to ${c.loginHost}:${placed.dir}`);
      this.entry = placed.entry;
      this.conn = conn;
      return conn;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The srun command line of one allocation running one agent. */
  private srunCommand(spec: AgentSpec, jobName: string): string {
    const c = this.config;
    // --unbuffered: srun otherwise forwards a task's stdout line by line, and frames are binary.
    const opts = [`--job-name=${jobName}`, '--nodes=1', '--ntasks=1', `--cpus-per-task=${c.cpusPerNode ?? 1}`, '--quiet', '--unbuffered'];
    if (c.partition) opts.push(`--partition=${c.partition}`);
    if (c.account) opts.push(`--account=${c.account}`);
    if (c.qos) opts.push(`--qos=${c.qos}`);
    if (c.timeLimit) opts.push(`--time=${c.timeLimit}`);
    if (c.memPerNode) opts.push(`--mem=${c.memPerNode}`);
    if (c.gres) opts.push(`--gres=${c.gres}`);
    opts.push(...(c.srunArgs ?? []));
    return `exec srun ${opts.map(shellQuote).join(' ')} ${shellQuote(c.nodePath ?? 'node')} ${shellQuote(this.entry!)} ${shellQuote(JSON.stringify(spec))}`;
  }

  private async allocate(): Promise<void> {
    const host = this.host!;
    const c = this.config;
    const nodeId = randomBytes(8).toString('hex');
    const a: Allocation = { nodeId, jobName: `orrery-${c.name}-${nodeId}`, channel: undefined, joined: false };
    this.allocations.set(nodeId, a);
    this.requested++;
    const [shape] = this.shapes();
    const spec: AgentSpec = {
      nodeId,
      backend: c.name,
      numCpus: c.cpusPerNode ?? 1,
      numGpus: shape!.resources.GPU ?? 0,
      resources: c.resources,
      labels: shape!.labels,
    };
    try {
      const conn = await this.connection();
      const ch = await conn.exec(this.srunCommand(spec, a.jobName));
      a.channel = ch;
      const tail = forwardStderr(ch, (line) => host.log(`[${c.name} ${a.jobName}] ${line}`));
      ch.on('error', () => {});
      ch.once('close', () => this.allocations.delete(nodeId));
      try {
        await host.attach({ input: ch, output: ch, kill: () => this.release(a, 'killed') }, spec);
      } catch (err) {
        const said = tail.length > 0 ? `; srun said:\n${tail.join('\n')}` : '';
        throw new BackendError(c.name, `allocation ${a.jobName} did not start an agent: ${(err as Error).message}${said}`, true);
      }
      a.joined = true;
    } catch (err) {
      this.allocations.delete(nodeId);
      a.channel?.close();
      if (!this.stopping) host.log(`orrery: ${(err as Error).message}`);
    }
  }

  /** Ends an allocation: out of scheduling first (when idle), then scancel. */
  private release(a: Allocation, why: 'idle' | 'killed'): void {
    if (!this.allocations.delete(a.nodeId)) return;
    if (why === 'idle') this.host?.retire(a.nodeId);
    void this.conn?.run(`scancel --name=${a.jobName}`).catch(() => undefined);
    a.channel?.close();
  }
}
