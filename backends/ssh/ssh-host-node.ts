/**
 * One host of an ssh backend: its SSH connection and the agent running over an exec channel.
 * When either ends while the backend runs, the head sees the node die (the agent stream ends)
 * and retries its tasks elsewhere; here we reconnect with backoff and start a new agent, which
 * joins as a new node, so the retried tasks can come back to this host.
 *
 * The agent's spec travels as the first line of the exec channel, never on a command line (any
 * user of the host can read those), and its files live in the private `~/.orrery/run` there.
 */
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { socketFileName } from '../../orchestrator/core/runtime-dir.ts';
import type { AgentSpec, AgentStream, BackendHost } from '../types.ts';
import { agentBundle } from '../transport/ssh/agent-bundle.ts';
import { SshConnection, connectWithBackoff, type SshConnectOptions } from '../transport/ssh/connection.ts';
import { forwardStderr } from '../transport/ssh/login.ts';
import type { NodeRuntimeConfig } from '../transport/ssh/node-dist.ts';
import { describeRuntime, nodeCommand, resolveRemoteNode } from '../transport/ssh/node-runtime.ts';
import { ensureBundle } from '../transport/ssh/remote-agent.ts';
import { durableOwner, ensureRemoteRunDir } from '../transport/ssh/remote-run-dir.ts';
import { describeAddress } from '../transport/ssh/ssh-config.ts';
import { shellQuote } from '../transport/shell-quote.ts';

/** Lines of agent stderr kept for the error message when an agent fails to start. */
const STDERR_TAIL = 20;
/** An agent that ends sooner than this after joining counts as crash-looping: restarts slow down. */
const QUICK_DEATH_MS = 10_000;

/** What a host node needs from its backend. */
export interface SshHostNodeOptions {
  readonly backend: string;
  readonly connect: SshConnectOptions;
  /** How to find or provision Node on the host (the backend config's node, nodeDist, nodePath). */
  readonly node: NodeRuntimeConfig;
  /** The agent spec without its node id (a fresh id per agent: a restarted agent is a new node). */
  readonly agent: Omit<AgentSpec, 'nodeId'>;
  readonly host: BackendHost;
}

/** A host's connection and agent, kept alive until {@link SshHostNode.stop}. */
export class SshHostNode {
  /** The current agent's node id (undefined before the first start). */
  nodeId: string | undefined;
  /** Agents started so far (the first plus restarts). */
  agentStarts = 0;
  private conn: SshConnection | undefined;
  private agent: ClientChannel | undefined;
  /** True once the first agent joined: from then on, losing it means reviving it. */
  private live = false;
  private stopping = false;
  private reviving: Promise<void> | undefined;
  /** When the current agent joined, and how many agents in a row died within QUICK_DEATH_MS of that. */
  private startedAt = 0;
  private quickDeaths = 0;

  constructor(private readonly o: SshHostNodeOptions) {}

  /** `user@host:port`, for messages. */
  get label(): string {
    const t = this.o.connect.target;
    return `${t.user}@${describeAddress(t)}`;
  }

  /** Connects and starts the first agent; rejects with a BackendError (no retries: the user is waiting). */
  async start(): Promise<void> {
    const conn = await SshConnection.open(this.o.connect);
    if (this.stopping) return conn.close();
    this.adopt(conn);
    try {
      await this.launch(conn);
    } catch (err) {
      conn.close();
      throw err;
    }
    this.live = true;
  }

  /** Ends the agent and the connection; no revival after this. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.agent?.close();
    const conn = this.conn;
    if (!conn) return;
    conn.close('the backend shut down');
    await Promise.race([conn.closed, new Promise((r) => setTimeout(r, 3000).unref())]);
  }

  private adopt(conn: SshConnection): void {
    this.conn = conn;
    void conn.closed.then((why) => {
      if (this.conn === conn) this.lost(`the SSH connection closed (${why})`);
    });
  }

  /** Checks node, places the bundle, starts an agent and waits until it joined the head. */
  private async launch(conn: SshConnection): Promise<void> {
    const { backend, host } = this.o;
    const runDir = await ensureRemoteRunDir(conn, backend);
    const resolved = await resolveRemoteNode(conn, this.o.node, backend, (l) =>
      host.log(`orrery: ssh backend ${backend}: ${l}`),
    );
    const provisioned = describeRuntime(resolved, this.label);
    if (provisioned) host.log(`orrery: ssh backend ${backend}: ${provisioned}`);
    const nodePath = resolved.path;
    const bundle = await agentBundle();
    const placed = await ensureBundle(conn, bundle, backend, nodePath);
    if (placed.replaced) host.log(`orrery: ssh backend ${backend}: ${placed.replaced}`);
    if (placed.uploaded)
      host.log(`orrery: ssh backend ${backend}: uploaded agent bundle ${bundle.hash} to ${this.label}:${placed.dir}`);
    const durable = host.durable;
    // Named by its owner too: another head's agent on this account (a backend of the same name) is not this head's.
    const owner = durable ? `${durableOwner(durable.runDir)}-` : '';
    const socketPath = `${runDir}/${socketFileName(`${backend}-${owner}${this.label}`)}`;
    const spec: AgentSpec = {
      ...this.o.agent,
      nodeId: randomBytes(8).toString('hex'),
      ...(durable ? { listen: socketPath, graceS: durable.graceS } : {}),
    };
    // `exec` replaces the shell, so the agent (or, for a service head, the bridge to an agent that
    // outlives it, started if absent) is the session's own process and ends with it.
    const node = `${nodeCommand(resolved)} ${shellQuote(placed.entry)}`;
    const ch = await conn.exec(
      // touch: the bundle folder's time is its last use, which `orrery backends clean` goes by.
      `touch -c ${shellQuote(placed.dir)} 2>/dev/null; umask 077 && exec ${node}${durable ? ` --bridge ${shellQuote(socketPath)} --start` : ''}`,
    );
    ch.write(`${JSON.stringify(spec)}\n`);
    this.agent = ch;
    this.agentStarts++;
    const tail = forwardStderr(ch, (line) => host.log(`[${backend} ${this.label}] ${line}`), STDERR_TAIL);
    ch.once('close', () => {
      if (this.agent !== ch) return;
      this.agent = undefined;
      this.lost(`its agent (node ${spec.nodeId}) exited`);
    });
    // A closed channel drops writes; the head's Channel then sees the input end and closes itself.
    ch.on('error', () => {});
    const stream: AgentStream = { input: ch, output: ch, kill: () => ch.close() };
    try {
      await host.attach(stream, spec);
    } catch (err) {
      ch.close();
      const said = tail.length > 0 ? `; its last output:\n${tail.join('\n')}` : '';
      throw new BackendError(
        backend,
        `the agent on ${this.label} did not start: ${(err as Error).message}${said}`,
        true,
      );
    }
    this.nodeId = spec.nodeId;
    this.startedAt = Date.now();
  }

  /** The agent or the connection ended: revive both unless we are stopping. */
  private lost(why: string): void {
    if (!this.live || this.stopping || this.reviving) return;
    this.reviving = this.revive(why).finally(() => (this.reviving = undefined));
  }

  private async revive(why: string): Promise<void> {
    this.agent?.close();
    this.agent = undefined;
    // Channel close and connection close arrive separately; let both land before looking. An
    // agent ended by the head's shutdown is gone by then too, and the backend is stopping.
    await new Promise((r) => setTimeout(r, 200));
    if (this.stopping) return;
    this.o.host.log(`orrery: ssh backend ${this.o.backend}: ${this.label}: ${why}; starting a new agent`);
    // An agent that dies soon after it started would otherwise be restarted in a tight loop.
    this.quickDeaths = Date.now() - this.startedAt < QUICK_DEATH_MS ? this.quickDeaths + 1 : 0;
    const pause = this.quickDeaths === 0 ? 0 : Math.min(30_000, 500 * 2 ** this.quickDeaths);
    await new Promise((r) => setTimeout(r, pause));
    try {
      await connectWithBackoff(
        async () => {
          if (!this.conn || this.conn.isClosed) {
            const conn = await SshConnection.open(this.o.connect);
            if (this.stopping) {
              conn.close();
              throw new Error('stopped');
            }
            this.adopt(conn);
          }
          await this.launch(this.conn!);
        },
        {
          stopped: () => this.stopping,
          onRetry: (err, ms, n) =>
            this.o.host.log(
              `orrery: ssh backend ${this.o.backend}: ${this.label}: try ${n} failed (${err.message.replace(`backend ${this.o.backend}: `, '')}); next in ${(ms / 1000).toFixed(1)} s`,
            ),
        },
      );
      this.o.host.log(`orrery: ssh backend ${this.o.backend}: ${this.label}: agent restarted as node ${this.nodeId}`);
    } catch (err) {
      if (!this.stopping)
        this.o.host.log(`orrery: ssh backend ${this.o.backend}: giving up on ${this.label}: ${(err as Error).message}`);
    }
  }
}
