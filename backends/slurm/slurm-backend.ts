/**
 * The slurm backend: an elastic backend on an existing cluster manager. When the scheduler has
 * demand that fits an allocation's shape, it runs `srun ... node agent-main.mjs` through an SSH
 * session on the login host; srun forwards stdio, so the agent on the compute node speaks the
 * protocol through srun and SSH. Idle allocations are released; `scancel` on shutdown.
 *
 * Every command is built from quoted words (transport/shell-quote.ts); job names carry the
 * backend name in file-safe form, so no name is ever shell or Slurm list syntax. The agent's spec
 * goes to srun's stdin, or (sbatch) into a 0600 file in the private `~/.orrery/run`: never on a
 * command line.
 */
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { fileSafeName, socketFileName } from '../../orchestrator/core/runtime-dir.ts';
import { demandFitsShape, nodesNeeded } from '../../orchestrator/core/shape-fit.ts';
import type { AgentSpec, Backend, BackendHost, ElasticBackend, IdleNode, NodeShape, ResourceDemand } from '../types.ts';
import { agentBundle } from '../transport/ssh/agent-bundle.ts';
import { SshConnection, connectWithBackoff } from '../transport/ssh/connection.ts';
import { connectOptionsFor, forwardStderr, targetFor } from '../transport/ssh/login.ts';
import { checkRemoteNode, ensureBundle } from '../transport/ssh/remote-agent.ts';
import { ensureRemoteRunDir, writeRemotePrivateFile } from '../transport/ssh/remote-run-dir.ts';
import { shellCommand, shellPath, shellQuote } from '../transport/shell-quote.ts';
import { gpuModelOf, gpusOf, type SlurmBackendConfig } from './config.ts';

/** A node id in a job name: 16 hex digits (anything else after the prefix is another backend's job). */
const NODE_ID = /^[0-9a-f]{16}$/;

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
  /** The private run folder on the login host (the home folder is shared with compute nodes). */
  private runDir: string | undefined;
  private readonly allocations = new Map<string, Allocation>();
  private stopping = false;
  /** Allocations requested so far (for tests and the benchmark). */
  requested = 0;

  constructor(private readonly config: SlurmBackendConfig) {}

  get name(): string {
    return this.config.name;
  }

  /**
   * Connects to the login host, checks Node and places the agent bundle. A service head also
   * reattaches to the allocations a previous head left running (their agents outlive heads).
   */
  async start(host: BackendHost): Promise<void> {
    this.host = host;
    const conn = await this.connection();
    if (!host.durable?.reattach) return;
    const out = await conn.run(`${shellCommand(['squeue', '-h', '-t', 'RUNNING', '-o', '%i %j'])} -u "$(id -un)"`);
    const prefix = this.jobName('');
    for (const line of out.stdout.trim().split('\n').filter(Boolean)) {
      const [jobId, jobName] = line.split(' ') as [string, string];
      if (!jobName?.startsWith(prefix) || !NODE_ID.test(jobName.slice(prefix.length))) continue;
      const nodeId = jobName.slice(prefix.length);
      const a: Allocation = { nodeId, jobName, channel: undefined, joined: false };
      this.allocations.set(nodeId, a);
      await this.connectAgent(a, this.specFor(nodeId), jobId).catch((err: Error) =>
        host.log(`orrery: slurm backend ${this.config.name}: cannot reattach to ${jobName}: ${err.message}`),
      );
    }
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
    const fitting = demand.filter((d) => demandFitsShape(d, shape!, this.config.name));
    const starting = [...this.allocations.values()].filter((a) => !a.joined).length;
    const room = (this.config.maxNodes ?? 1) - this.allocations.size;
    const perNode = Math.max(
      1,
      Math.floor((shape!.resources.CPU ?? 1) / Math.max(1, ...demand.map((d) => d.resources.CPU ?? 1))),
    );
    const wanted = Math.min(room, nodesNeeded(fitting, perNode) - starting);
    for (let i = 0; i < wanted; i++) void this.allocate();
    const idleMs = (this.config.idleTimeoutS ?? 300) * 1000;
    for (const n of idle) {
      const a = this.allocations.get(n.nodeId);
      if (a?.joined && n.idleMs >= idleMs) this.release(a, 'idle');
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
    const out = await conn.run(
      shellCommand(['sinfo', '-h', ...(c.partition ? ['-p', c.partition] : []), '-o', '%P %a %D %c %m %G']),
    );
    if (out.code === 127)
      throw new BackendError(
        c.name,
        `sinfo is not on the PATH of a non-interactive SSH session on ${c.loginHost}; is this a Slurm login node?`,
        false,
      );
    if (out.code !== 0) throw new BackendError(c.name, `sinfo failed on ${c.loginHost}: ${out.stderr.trim()}`, false);
    const rows = out.stdout.trim().split('\n').filter(Boolean);
    if (rows.length === 0)
      throw new BackendError(
        c.name,
        `partition ${c.partition} does not exist on ${c.loginHost}; sinfo lists the partitions there`,
        false,
      );
    for (const r of rows) {
      const [name, avail, nodes, cpus, mem, gres] = r.split(' ');
      lines.push(`partition ${name}: ${avail}, ${nodes} node(s), ${cpus} CPUs and ${mem} MB each, gres ${gres}`);
      if (avail !== 'up')
        throw new BackendError(c.name, `partition ${name} is ${avail}; allocations would never start`, true);
    }
    return lines;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const all = [...this.allocations.values()];
    if (all.length > 0 && this.conn && !this.conn.isClosed) {
      await this.conn
        .run(shellCommand(['scancel', `--name=${all.map((a) => a.jobName).join(',')}`]))
        .catch(() => undefined);
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
            onRetry: (err, delayMs) =>
              this.host?.log(
                `orrery: slurm backend ${c.name}: ${err.message}; retrying in ${Math.round(delayMs / 1000)} s`,
              ),
          })
        : await SshConnection.open(opts);
      await checkRemoteNode(conn, c.nodePath ?? 'node', c.name);
      this.runDir = await ensureRemoteRunDir(conn, c.name);
      const placed = await ensureBundle(conn, await agentBundle(), c.name, c.nodePath ?? 'node');
      if (placed.replaced) this.host?.log(`orrery: slurm backend ${c.name}: ${placed.replaced}`);
      if (placed.uploaded)
        this.host?.log(`orrery: slurm backend ${c.name}: uploaded the agent bundle to ${c.loginHost}:${placed.dir}`);
      this.entry = placed.entry;
      this.conn = conn;
      return conn;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The allocation options shared by srun and sbatch. */
  private allocationOptions(jobName: string): string[] {
    const c = this.config;
    const opts = [`--job-name=${jobName}`, '--nodes=1', '--ntasks=1', `--cpus-per-task=${c.cpusPerNode ?? 1}`];
    if (c.partition) opts.push(`--partition=${c.partition}`);
    if (c.account) opts.push(`--account=${c.account}`);
    if (c.qos) opts.push(`--qos=${c.qos}`);
    if (c.timeLimit) opts.push(`--time=${c.timeLimit}`);
    if (c.memPerNode) opts.push(`--mem=${c.memPerNode}`);
    if (c.gres) opts.push(`--gres=${c.gres}`);
    return opts;
  }

  /** The job name of an allocation: the backend name in file-safe form (no shell or list syntax), then the node id. */
  private jobName(nodeId: string): string {
    return `orrery-${fileSafeName(this.config.name)}-${nodeId}`;
  }

  private get agentCommand(): string {
    return `${shellPath(this.config.nodePath ?? 'node')} ${shellQuote(this.entry!)}`;
  }

  /** The srun command line of one allocation running one agent (it ends with the SSH session); the spec follows on its stdin. */
  private srunCommand(jobName: string): string {
    // --unbuffered: srun otherwise forwards a task's stdout line by line, and frames are binary.
    const opts = [...this.allocationOptions(jobName), '--quiet', '--unbuffered', ...(this.config.srunArgs ?? [])];
    return `umask 077 && exec srun ${shellCommand(opts)} ${this.agentCommand}`;
  }

  /** Where a durable allocation's agent listens (the home directory is shared with compute nodes). */
  private socketOf(nodeId: string): string {
    return `${this.runDir!}/${socketFileName(`slurm-${this.config.name}-${nodeId}`)}`;
  }

  /** The agent spec of an allocation (a service head's agents listen and outlive it). */
  private specFor(nodeId: string): AgentSpec {
    const c = this.config;
    const [shape] = this.shapes();
    const durable = this.host?.durable;
    return {
      nodeId,
      backend: c.name,
      numCpus: c.cpusPerNode ?? 1,
      numGpus: shape!.resources.GPU ?? 0,
      resources: c.resources,
      labels: shape!.labels,
      objectStoreMemory: c.objectStoreMemory,
      ...(durable ? { listen: this.socketOf(nodeId), graceS: durable.graceS } : {}),
    };
  }

  /**
   * A service head's allocation: sbatch runs the agent (so it outlives the SSH session and the
   * head); resolves with the job id.
   */
  private async sbatch(conn: SshConnection, spec: AgentSpec, jobName: string): Promise<string> {
    const base = spec.listen!.replace(/\.sock$/, '');
    await writeRemotePrivateFile(conn, `${base}.spec`, JSON.stringify(spec), this.config.name);
    const run = `exec ${this.agentCommand} --spec-file ${shellQuote(`${base}.spec`)}`;
    // umask 077: Slurm creates the job's output file with the submitter's umask.
    const out = await conn.run(
      `umask 077 && sbatch --parsable ${shellCommand([...this.allocationOptions(jobName), `--output=${base}.log`])} --wrap ${shellQuote(run)}`,
    );
    if (out.code !== 0)
      throw new BackendError(this.config.name, `sbatch failed: ${out.stderr.trim() || out.stdout.trim()}`, true);
    return out.stdout.trim().split(';')[0]!;
  }

  /**
   * Opens the byte stream to an allocation's agent: srun itself for a plain one; for a durable
   * one an overlapping srun step in its job that bridges to the agent's socket once it is up.
   */
  private async connectAgent(a: Allocation, spec: AgentSpec, jobId?: string): Promise<void> {
    const host = this.host!;
    const c = this.config;
    const conn = await this.connection();
    const command = jobId
      ? `for i in $(seq 600); do [ -S ${shellQuote(spec.listen!)} ] && break; sleep 0.2; done; exec srun ${shellCommand([`--jobid=${jobId}`, '--overlap', '--ntasks=1', '--quiet', '--unbuffered'])} ${this.agentCommand} --bridge ${shellQuote(spec.listen!)}`
      : this.srunCommand(a.jobName);
    const ch = await conn.exec(command);
    if (!jobId) ch.write(`${JSON.stringify(spec)}\n`);
    a.channel = ch;
    const tail = forwardStderr(ch, (line) => host.log(`[${c.name} ${a.jobName}] ${line}`));
    ch.on('error', () => {});
    ch.once('close', () => {
      if (a.channel !== ch || this.allocations.get(a.nodeId) !== a) return;
      if (!jobId) return void this.allocations.delete(a.nodeId);
      // The agent outlives this stream (e.g. the SSH connection dropped): reconnect while its job runs.
      if (!this.stopping && a.joined) setTimeout(() => void this.reconnect(a, spec, jobId), 1000).unref();
    });
    try {
      await host.attach({ input: ch, output: ch, kill: () => this.release(a, 'killed') }, spec);
    } catch (err) {
      const said = tail.length > 0 ? `; srun said:\n${tail.join('\n')}` : '';
      throw new BackendError(
        c.name,
        `allocation ${a.jobName} did not start an agent: ${(err as Error).message}${said}`,
        true,
      );
    }
    a.joined = true;
  }

  private async allocate(): Promise<void> {
    const host = this.host!;
    const nodeId = randomBytes(8).toString('hex');
    const a: Allocation = { nodeId, jobName: this.jobName(nodeId), channel: undefined, joined: false };
    this.allocations.set(nodeId, a);
    this.requested++;
    const spec = this.specFor(nodeId);
    try {
      const jobId = host.durable ? await this.sbatch(await this.connection(), spec, a.jobName) : undefined;
      await this.connectAgent(a, spec, jobId);
    } catch (err) {
      this.allocations.delete(nodeId);
      a.channel?.close();
      if (host.durable) void this.conn?.run(shellCommand(['scancel', `--name=${a.jobName}`])).catch(() => undefined);
      if (!this.stopping) host.log(`orrery: ${(err as Error).message}`);
    }
  }

  private async reconnect(a: Allocation, spec: AgentSpec, jobId: string): Promise<void> {
    try {
      const conn = await this.connection();
      const out = await conn.run(shellCommand(['squeue', '-h', '-j', jobId, '-o', '%T']));
      if (out.stdout.trim() !== 'RUNNING') return void this.allocations.delete(a.nodeId);
      await this.connectAgent(a, spec, jobId);
    } catch (err) {
      this.host?.log(
        `orrery: slurm backend ${this.config.name}: cannot reconnect to ${a.jobName}: ${(err as Error).message}`,
      );
    }
  }

  /** Ends an allocation: out of scheduling first (when idle), then scancel. */
  private release(a: Allocation, why: 'idle' | 'killed'): void {
    if (!this.allocations.delete(a.nodeId)) return;
    if (why === 'idle') this.host?.retire(a.nodeId);
    void this.conn?.run(shellCommand(['scancel', `--name=${a.jobName}`])).catch(() => undefined);
    a.channel?.close();
  }
}
