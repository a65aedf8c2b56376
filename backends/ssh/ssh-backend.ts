/**
 * The ssh backend: one node per remote host, its agent started as `node agent-main.mjs` over an
 * SSH exec channel. The host needs only sshd and Node >= 20; the agent bundle is uploaded by
 * SFTP under its content hash, so a host never runs a stale agent.
 */
import { BackendError } from '../../orchestrator/core/errors.ts';
import { NODE_ADDRESS_LABEL } from '../../orchestrator/core/node-labels.ts';
import type { Backend, BackendHost } from '../types.ts';
import { agentBundle } from '../transport/ssh/agent-bundle.ts';
import { SshConnection, type SshConnectOptions } from '../transport/ssh/connection.ts';
import { connectOptionsFor, targetFor } from '../transport/ssh/login.ts';
import { describeLocalCache } from '../transport/ssh/node-dist-fetch.ts';
import { describeRuntime, resolveRemoteNode, runtimeNameFor } from '../transport/ssh/node-runtime.ts';
import { ensureBundle } from '../transport/ssh/remote-agent.ts';
import { ensureRemoteRunDir } from '../transport/ssh/remote-run-dir.ts';
import {
  cleanRemoteCaches,
  describeRemoved,
  describeUsage,
  remoteCacheUsage,
} from '../transport/ssh/remote-housekeeping.ts';
import { describeAddress, type SshTarget } from '../transport/ssh/ssh-config.ts';
import type { SshBackendConfig } from './config.ts';
import { SshHostNode } from './ssh-host-node.ts';

const GPU_QUERY = 'nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits';

/** Runs agents on remote hosts over SSH. */
export class SshBackend implements Backend {
  readonly kind = 'ssh';
  private nodes: SshHostNode[] = [];

  constructor(private readonly config: SshBackendConfig) {}

  get name(): string {
    return this.config.name;
  }

  /** The host nodes (for tests and the State API: agent restarts, current node ids). */
  get hostNodes(): readonly SshHostNode[] {
    return this.nodes;
  }

  /** Connects to every host and starts their agents; rejects when any host fails, naming each. */
  async start(host: BackendHost): Promise<void> {
    const c = this.config;
    this.nodes = this.targets().map(
      (target) =>
        new SshHostNode({
          backend: c.name,
          connect: this.connectOptions(target),
          node: c,
          agent: {
            backend: c.name,
            numCpus: c.numCpus,
            numGpus: c.numGpus,
            resources: c.resources,
            labels: { [NODE_ADDRESS_LABEL]: target.host, ...c.labels },
            objectStoreMemory: c.objectStoreMemory,
            objectTransfer: c.objectTransfer,
            transferBind: c.transferBind,
          },
          host,
        }),
    );
    const results = await Promise.allSettled(this.nodes.map((n) => n.start()));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length === 0) return;
    await this.shutdown();
    throw combine(c.name, failed);
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /**
   * `orrery backends test`: per host, the connection and host key, the Node the agent runs with
   * (provisioned if needed, with its path), the agent bundle (uploaded if absent), the sizes of
   * Orrery's caches there and the GPUs nvidia-smi reports. Starts no agent.
   */
  async check(): Promise<string[]> {
    const lines: string[] = [];
    for (const target of this.targets()) {
      const label = `${target.user}@${describeAddress(target)}`;
      const opts = this.connectOptions(target);
      const conn = await SshConnection.open(opts);
      try {
        const via = target.jumps.length > 0 ? ` via ${target.jumps.map(describeAddress).join(', ')}` : '';
        lines.push(`${label}: connected${via}; host key ${conn.hostKey} matches ${opts.knownHostsFile}`);
        await ensureRemoteRunDir(conn, this.name);
        const node = await resolveRemoteNode(conn, this.config, this.name, (l) => lines.push(`${label}: ${l}`));
        const provisioned = describeRuntime(node, label);
        if (provisioned) lines.push(provisioned);
        lines.push(
          `${label}: node ${node.version} at ${node.path}${node.runtime ? ' (provisioned by Orrery)' : " (the host's own)"}`,
        );
        const bundle = await agentBundle();
        const placed = await ensureBundle(conn, bundle, this.name, node.path);
        if (placed.replaced) lines.push(`${label}: ${placed.replaced}`);
        lines.push(
          `${label}: agent bundle ${bundle.hash} ${placed.uploaded ? 'uploaded to' : 'already at'} ${placed.dir}`,
        );
        lines.push(`${label}: ~/.orrery caches: ${describeUsage(await remoteCacheUsage(conn))}`);
        lines.push(`${label}: ${describeGpus(await conn.run(GPU_QUERY))}`);
      } finally {
        conn.close();
      }
    }
    lines.push(describeLocalCache());
    return lines;
  }

  /**
   * `orrery backends clean`: on every host, removes the agent bundles, Node runtimes, environments
   * and working folders of ~/.orrery unused for `olderThanDays`, keeping the bundle and runtime of
   * this Orrery.
   */
  async clean(options: { readonly olderThanDays: number }): Promise<string[]> {
    const lines: string[] = [];
    const { hash } = await agentBundle();
    for (const target of this.targets()) {
      const label = `${target.user}@${describeAddress(target)}`;
      const conn = await SshConnection.open(this.connectOptions(target));
      try {
        const runtime = await runtimeNameFor(conn, this.config);
        const keep = [`agents/${hash}`, ...(runtime ? [`runtime/${runtime}`] : [])];
        const removed = await cleanRemoteCaches(conn, keep, options.olderThanDays, this.name);
        lines.push(...describeRemoved(label, removed, options.olderThanDays));
      } finally {
        conn.close();
      }
    }
    return lines;
  }

  private targets(): SshTarget[] {
    return this.config.hosts.map((h) => targetFor(this.config, h));
  }

  private connectOptions(target: SshTarget): SshConnectOptions {
    return connectOptionsFor(this.config, target);
  }
}

/** One error for all failed hosts: the only one as is, several joined (each already names its host). */
function combine(backend: string, errors: unknown[]): Error {
  if (errors.length === 1) return errors[0] as Error;
  const prefix = `backend ${backend}: `;
  const text = errors.map((e) => ((e as Error).message ?? String(e)).replace(prefix, '')).join('\n  - ');
  const retryable = errors.every((e) => e instanceof BackendError && e.retryable);
  return new BackendError(backend, `${errors.length} hosts failed:\n  - ${text}`, retryable);
}

/** One line about the GPUs nvidia-smi listed, or why there are none. */
function describeGpus(out: { code: number | null; stdout: string; stderr: string }): string {
  if (out.code === 127) return 'no GPUs (nvidia-smi is not on the PATH of a non-interactive SSH session)';
  if (out.code !== 0) return `no GPUs (nvidia-smi failed: ${(out.stderr || out.stdout).trim().split('\n')[0]})`;
  const rows = out.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (rows.length === 0) return 'no GPUs (nvidia-smi listed none)';
  const counts = new Map<string, number>();
  for (const r of rows) {
    const [name, mem] = r.split(',').map((x) => x.trim());
    const key = `${name}${mem ? ` (${mem} MiB)` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `GPUs: ${[...counts].map(([k, n]) => `${n} x ${k}`).join(', ')}`;
}
