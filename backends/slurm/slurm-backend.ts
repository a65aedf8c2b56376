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
import {
  CONTAINER_RUNTIME_ORDER,
  type ContainerRuntimeName,
  containerLabels,
} from '../../orchestrator/core/node-labels.ts';
import { demandFitsShape, nodesNeeded } from '../../orchestrator/core/shape-fit.ts';
import type { AgentSpec, Backend, BackendHost, ElasticBackend, IdleNode, NodeShape, ResourceDemand } from '../types.ts';
import { agentBundle } from '../transport/ssh/agent-bundle.ts';
import { SshConnection, connectWithBackoff } from '../transport/ssh/connection.ts';
import { connectOptionsFor, forwardStderr, targetFor } from '../transport/ssh/login.ts';
import { describeLocalCache } from '../transport/ssh/node-dist-fetch.ts';
import {
  describeRuntime,
  nodeCommand,
  resolveRemoteNode,
  runtimeNameFor,
  type RemoteNode,
} from '../transport/ssh/node-runtime.ts';
import { ensureBundle } from '../transport/ssh/remote-agent.ts';
import {
  cleanRemoteCaches,
  describeRemoved,
  describeUsage,
  remoteCacheUsage,
} from '../transport/ssh/remote-housekeeping.ts';
import { durableOwner, ensureRemoteRunDir, writeRemotePrivateFile } from '../transport/ssh/remote-run-dir.ts';
import { shellCommand, shellQuote } from '../transport/shell-quote.ts';
import { gpuModelOf, gpusOf, type SlurmBackendConfig } from './config.ts';

/** A node id in a job name: 16 hex digits (anything else after the prefix is another backend's job). */
const NODE_ID = /^[0-9a-f]{16}$/;

/** One allocation: a Slurm job running one agent. */
interface Allocation {
  readonly nodeId: string;
  readonly jobName: string;
  /** One of a gang's nodes: its job holds them all, and ends with any of them. */
  readonly gang?: boolean;
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
  /** The Node found or provisioned on the login host; compute nodes run the same path (shared home). */
  private node: RemoteNode | undefined;
  /** The private run folder on the login host (the home folder is shared with compute nodes). */
  private runDir: string | undefined;
  /** The container runtimes of the login host, which the shape claims for the compute nodes (config labels win). */
  private containerLabels: Record<string, string> = {};
  private readonly allocations = new Map<string, Allocation>();
  /** Placement groups whose nodes are being allocated as one job (a gang's). */
  private readonly gangGroups = new Set<string>();
  /** Groups whose N-node salloc Slurm refused (e.g. fewer nodes in the partition): one job per node instead. */
  private readonly splitGroups = new Set<string>();
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
    const out = await conn.run(
      this.slurm(
        `${shellCommand(['squeue', '-h', '-t', 'PENDING,CONFIGURING,RUNNING', '-o', '%i %j %T'])} -u "$(id -un)"`,
      ),
    );
    const prefix = this.jobName('');
    for (const line of out.stdout.trim().split('\n').filter(Boolean)) {
      const [jobId, jobName, state] = line.split(' ') as [string, string, string];
      if (!jobName?.startsWith(prefix) || !NODE_ID.test(jobName.slice(prefix.length))) continue;
      const nodeId = jobName.slice(prefix.length);
      const a: Allocation = { nodeId, jobName, channel: undefined, joined: false };
      this.allocations.set(nodeId, a);
      const attached = this.connectAgent(a, this.specFor(nodeId), jobId).catch((err: Error) => {
        host.log(`orrery: slurm backend ${this.config.name}: cannot reattach to ${jobName}: ${err.message}`);
        if (state !== 'RUNNING') this.release(a, 'killed');
      });
      // A job still queued (its head died right after sbatch) is adopted too: its agent joins
      // when it starts, and meanwhile it counts as a starting allocation, so no second job
      // queues behind it for the same work.
      if (state === 'RUNNING') await attached;
    }
  }

  shapes(): readonly NodeShape[] {
    const c = this.config;
    const resources: Record<string, number> = { CPU: c.cpusPerNode ?? 1, ...c.resources };
    const gpus = gpusOf(c.gres) ?? 0;
    if (gpus > 0) resources.GPU = gpus;
    const labels: Record<string, string> = { ...this.containerLabels, ...c.labels };
    const model = gpuModelOf(c.gres);
    if (model) labels.accelerator = model;
    if (c.partition) labels['slurm.partition'] = c.partition;
    return [{ resources, labels }];
  }

  scale(demand: readonly ResourceDemand[], idle: readonly IdleNode[]): void {
    if (this.stopping) return;
    const [shape] = this.shapes();
    const fitting: ResourceDemand[] = [];
    // The bundles of one STRICT_SPREAD group (a gang's ranks) come as one job of N nodes, unless
    // agents must outlive the head (sbatch, one node per job).
    const groups = new Map<string, number>();
    for (const d of demand) {
      if (!demandFitsShape(d, shape!, this.config.name)) continue;
      if (d.separateNodes && d.group !== undefined && !this.host?.durable && !this.splitGroups.has(d.group))
        groups.set(d.group, (groups.get(d.group) ?? 0) + d.count);
      else fitting.push(d);
    }
    let room = (this.config.maxNodes ?? 1) - this.allocations.size;
    for (const [group, n] of groups) {
      if (this.gangGroups.has(group) || n > room) continue;
      room -= n;
      void this.allocateGang(group, n);
    }
    const starting = [...this.allocations.values()].filter((a) => !a.joined && !a.gang).length;
    const perNode = Math.max(
      1,
      Math.floor((shape!.resources.CPU ?? 1) / Math.max(1, ...demand.map((d) => d.resources.CPU ?? 1))),
    );
    const wanted = Math.min(room, nodesNeeded(fitting, perNode) - starting);
    for (let i = 0; i < wanted; i++) void this.allocate();
    const idleMs = (this.config.idleTimeoutS ?? 300) * 1000;
    const idleNow = new Set(idle.filter((n) => n.idleMs >= idleMs).map((n) => n.nodeId));
    for (const nodeId of idleNow) {
      const a = this.allocations.get(nodeId);
      if (!a?.joined) continue;
      if (!a.gang) {
        this.release(a, 'idle');
        continue;
      }
      // A gang's nodes share one job: it ends only once every one of them is idle.
      const members = [...this.allocations.values()].filter((m) => m.jobName === a.jobName);
      if (members.every((m) => m.joined && idleNow.has(m.nodeId))) for (const m of members) this.release(m, 'idle');
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
    const node = this.node!;
    lines.push(
      `${c.loginHost}: node ${node.version} at ${node.path}${node.runtime ? ' (provisioned by Orrery in the shared home; compute nodes run it)' : " (the cluster's own)"}`,
    );
    lines.push(`${c.loginHost}: ~/.orrery caches: ${describeUsage(await remoteCacheUsage(conn))}`);
    lines.push(describeLocalCache());
    const out = await conn.run(
      this.slurm(shellCommand(['sinfo', '-h', ...(c.partition ? ['-p', c.partition] : []), '-o', '%P %a %D %c %m %G'])),
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

  /**
   * `orrery backends clean`: removes the agent bundles, Node runtimes, environments and working
   * folders of ~/.orrery on the login host (the home compute nodes share) unused for
   * `olderThanDays`, keeping this Orrery's bundle and runtime.
   */
  async clean(options: { readonly olderThanDays: number }): Promise<string[]> {
    const c = this.config;
    const conn = await SshConnection.open(connectOptionsFor(c, targetFor(c, c.loginHost)));
    try {
      const runtime = await runtimeNameFor(conn, c);
      const keep = [`agents/${(await agentBundle()).hash}`, ...(runtime ? [`runtime/${runtime}`] : [])];
      return describeRemoved(
        c.loginHost,
        await cleanRemoteCaches(conn, keep, options.olderThanDays, c.name),
        options.olderThanDays,
      );
    } finally {
      conn.close();
    }
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const all = [...this.allocations.values()];
    if (all.length > 0 && this.conn && !this.conn.isClosed) {
      await this.conn
        .run(this.slurm(shellCommand(['scancel', `--name=${[...new Set(all.map((a) => a.jobName))].join(',')}`])))
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
      this.runDir = await ensureRemoteRunDir(conn, c.name);
      const log = (l: string) => this.host?.log(`orrery: slurm backend ${c.name}: ${l}`);
      this.node = await resolveRemoteNode(conn, c, c.name, log);
      const provisioned = describeRuntime(this.node, c.loginHost);
      if (provisioned) log(provisioned);
      const placed = await ensureBundle(conn, await agentBundle(), c.name, this.node.path);
      // touch: the bundle folder's time is its last use, which `orrery backends clean` goes by.
      await conn.run(shellCommand(['touch', '-c', placed.dir]));
      if (placed.replaced) this.host?.log(`orrery: slurm backend ${c.name}: ${placed.replaced}`);
      if (placed.uploaded)
        this.host?.log(`orrery: slurm backend ${c.name}: uploaded the agent bundle to ${c.loginHost}:${placed.dir}`);
      this.entry = placed.entry;
      this.containerLabels = await loginHostContainerLabels(conn);
      this.conn = conn;
      return conn;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The allocation options shared by srun, sbatch and (a gang's N nodes) salloc. */
  private allocationOptions(jobName: string, nodes = 1): string[] {
    const c = this.config;
    const opts = [
      `--job-name=${jobName}`,
      `--nodes=${nodes}`,
      `--ntasks=${nodes}`,
      `--cpus-per-task=${c.cpusPerNode ?? 1}`,
    ];
    if (nodes > 1) opts.push('--ntasks-per-node=1');
    if (c.partition) opts.push(`--partition=${c.partition}`);
    if (c.account) opts.push(`--account=${c.account}`);
    if (c.qos) opts.push(`--qos=${c.qos}`);
    if (c.timeLimit) opts.push(`--time=${c.timeLimit}`);
    if (c.memPerNode) opts.push(`--mem=${c.memPerNode}`);
    if (c.gres) opts.push(`--gres=${c.gres}`);
    return opts;
  }

  /** The job name of an allocation: the backend name in file-safe form (no shell or list syntax), then the node id. */
  /**
   * A job's name. A service head's jobs also carry its owner (durableOwner), so a resumed head
   * adopts its own allocations, never another head's.
   */
  private jobName(nodeId: string): string {
    const durable = this.host?.durable;
    const owner = durable ? `${durableOwner(durable.runDir)}-` : '';
    return `orrery-${fileSafeName(this.config.name)}-${owner}${nodeId}`;
  }

  private get agentCommand(): string {
    return `${nodeCommand(this.node!)} ${shellQuote(this.entry!)}`;
  }

  /** The srun command line of one allocation running one agent (it ends with the SSH session); the spec follows on its stdin. */
  private srunCommand(jobName: string): string {
    // --unbuffered: srun otherwise forwards a task's stdout line by line, and frames are binary.
    const opts = [...this.allocationOptions(jobName), '--quiet', '--unbuffered', ...(this.config.srunArgs ?? [])];
    return this.slurm(`umask 077 && exec srun ${shellCommand(opts)} ${this.agentCommand}`);
  }

  /** A Slurm command line, with SLURM_CONF set when the config names the cluster's slurm.conf. */
  private slurm(command: string): string {
    const conf = this.config.slurmConf;
    return conf ? `export SLURM_CONF=${shellQuote(conf)} && ${command}` : command;
  }

  /**
   * The salloc of a gang's nodes: one job of `nodes` nodes, one task each, that returns once
   * granted and lives until scancel (or its time limit); an srun step per node follows.
   */
  sallocCommand(jobName: string, nodes: number): string {
    return this.slurm(`salloc --no-shell ${shellCommand(this.allocationOptions(jobName, nodes))}`);
  }

  /** The srun step running the agent on node `relative` of a gang's job (the spec follows on its stdin). */
  stepCommand(jobId: string, relative: number): string {
    const c = this.config;
    const opts = [
      `--jobid=${jobId}`,
      '--nodes=1',
      '--ntasks=1',
      `--relative=${relative}`,
      `--cpus-per-task=${c.cpusPerNode ?? 1}`,
      ...(c.gres ? [`--gres=${c.gres}`] : []),
      '--quiet',
      '--unbuffered',
      ...(c.srunArgs ?? []),
    ];
    return this.slurm(`umask 077 && exec srun ${shellCommand(opts)} ${this.agentCommand}`);
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
      objectTransfer: c.objectTransfer,
      transferBind: c.transferBind,
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
      this.slurm(
        `umask 077 && sbatch --parsable ${shellCommand([...this.allocationOptions(jobName), `--output=${base}.log`])} --wrap ${shellQuote(run)}`,
      ),
    );
    if (out.code !== 0)
      throw new BackendError(this.config.name, `sbatch failed: ${out.stderr.trim() || out.stdout.trim()}`, true);
    return out.stdout.trim().split(';')[0]!;
  }

  /**
   * Opens the byte stream to an allocation's agent: srun itself for a plain one; for a durable
   * one an overlapping srun step in its job that bridges to the agent's socket once it is up.
   */
  private async connectAgent(
    a: Allocation,
    spec: AgentSpec,
    jobId?: string,
    step?: { readonly jobId: string; readonly relative: number },
  ): Promise<void> {
    const host = this.host!;
    const c = this.config;
    const conn = await this.connection();
    const command = jobId
      ? this.slurm(
          `for i in $(seq 600); do [ -S ${shellQuote(spec.listen!)} ] && break; sleep 0.2; done; exec srun ${shellCommand([`--jobid=${jobId}`, '--overlap', '--ntasks=1', '--quiet', '--unbuffered'])} ${this.agentCommand} --bridge ${shellQuote(spec.listen!)}`,
        )
      : step
        ? this.stepCommand(step.jobId, step.relative)
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
      if (host.durable)
        void this.conn?.run(this.slurm(shellCommand(['scancel', `--name=${a.jobName}`]))).catch(() => undefined);
      if (!this.stopping) host.log(`orrery: ${(err as Error).message}`);
    }
  }

  /** A gang's N nodes: one salloc of N nodes, then an srun step per node running its agent. */
  private async allocateGang(group: string, nodes: number): Promise<void> {
    const host = this.host!;
    this.gangGroups.add(group);
    const jobName = this.jobName(randomBytes(8).toString('hex'));
    const members = Array.from({ length: nodes }, () => {
      const a: Allocation = {
        nodeId: randomBytes(8).toString('hex'),
        jobName,
        gang: true,
        channel: undefined,
        joined: false,
      };
      this.allocations.set(a.nodeId, a);
      return a;
    });
    this.requested++;
    try {
      const conn = await this.connection();
      // Slurm queues a job asking for more nodes than the partition has (PartitionNodeLimit) instead of refusing it.
      const have = await this.partitionNodes(conn);
      if (have < nodes) {
        this.splitGroups.add(group);
        throw new BackendError(
          this.config.name,
          `a gang needs ${nodes} nodes but partition ${this.config.partition ?? '(default)'} has ${have}; starting one allocation per rank instead (they may share nodes)`,
          true,
        );
      }
      const out = await conn.run(this.sallocCommand(jobName, nodes));
      const jobId = /Granted job allocation (\d+)/.exec(`${out.stderr}\n${out.stdout}`)?.[1];
      if (out.code !== 0 || jobId === undefined) {
        this.splitGroups.add(group);
        throw new BackendError(
          this.config.name,
          `salloc of ${nodes} nodes for a gang failed (${(out.stderr || out.stdout).trim() || `exit code ${out.code}`}); ` +
            'starting one allocation per rank instead',
          true,
        );
      }
      await Promise.all(
        members.map((a, relative) => this.connectAgent(a, this.specFor(a.nodeId), undefined, { jobId, relative })),
      );
    } catch (err) {
      for (const a of members) {
        this.allocations.delete(a.nodeId);
        a.channel?.close();
      }
      void this.conn?.run(this.slurm(shellCommand(['scancel', `--name=${jobName}`]))).catch(() => undefined);
      if (!this.stopping) host.log(`orrery: ${(err as Error).message}`);
    } finally {
      this.gangGroups.delete(group);
    }
  }

  /** Nodes in the backend's partition (the default one when it names none), as sinfo counts them. */
  private async partitionNodes(conn: SshConnection): Promise<number> {
    const p = this.config.partition;
    const out = await conn.run(this.slurm(shellCommand(['sinfo', '-h', '-o', '%P %D', ...(p ? ['-p', p] : [])])));
    let total = 0;
    for (const line of out.stdout.trim().split('\n')) {
      const [name, count] = line.trim().split(' ');
      if (name && (p !== undefined || name.endsWith('*'))) total += Number(count) || 0;
    }
    return total;
  }

  private async reconnect(a: Allocation, spec: AgentSpec, jobId: string): Promise<void> {
    try {
      const conn = await this.connection();
      const out = await conn.run(this.slurm(shellCommand(['squeue', '-h', '-j', jobId, '-o', '%T'])));
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
    void this.conn?.run(this.slurm(shellCommand(['scancel', `--name=${a.jobName}`]))).catch(() => undefined);
    a.channel?.close();
  }
}

/**
 * The container-runtime labels (core/container-runtimes.ts) of what the login host has on its
 * PATH: compute nodes usually run the same software image; where they do not, the config's
 * `labels` say so, and an agent reports what its own node has when it joins.
 */
async function loginHostContainerLabels(conn: SshConnection): Promise<Record<string, string>> {
  const probe = CONTAINER_RUNTIME_ORDER.map((r) => `command -v ${r} >/dev/null 2>&1 && echo ${r}`).join('; ');
  const out = await conn.run(`${probe}; true`);
  const found = out.stdout
    .split('\n')
    .filter((r): r is ContainerRuntimeName => CONTAINER_RUNTIME_ORDER.includes(r as ContainerRuntimeName));
  return containerLabels(found);
}
