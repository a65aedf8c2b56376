/**
 * The head link of an agent that outlives its head (`orrery start` nodes): the agent listens on
 * a Unix socket; a head connects (directly, or through `agent-main --bridge` over SSH or srun).
 * When the head goes away (killed, laptop asleep) the agent keeps running its tasks and keeps
 * their results and requests until a head connects again; after the grace period with no head
 * it ends. A new head is told which tasks are still running and which actors live here, then gets
 * what was kept. Actors outlive their head too: a new head adopts them (same worker, same state)
 * or kills them (`kill-actor`); only leases of function tasks end with the head that held them.
 *
 * The socket is in the private run folder, and a connection counts only once its first line is
 * this agent's secret (agent-socket.ts): anything else is closed unheard and cannot displace
 * the head that is connected.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { writePrivateFile } from '../core/runtime-dir.ts';
import { Channel, type CloseReason } from '../protocol/channel.ts';
import type { Message } from '../protocol/messages.ts';
import { newPeerSecret, secretMatches } from '../protocol/peer-secret.ts';
import { readPreamble } from '../protocol/preamble.ts';
import { agentFile, removeAgentFiles } from './agent-socket.ts';
import { DirectLinkTasks } from './direct-link-tasks.ts';

/** Output kept per detached period; beyond it log lines are dropped (results never are). */
const LOG_BUDGET_BYTES = 1 << 20;
/** How long a new connection has to show the secret. */
const SECRET_TIMEOUT_MS = 10_000;

/** What the agent needs of its head link (the subset of Channel it uses). */
export interface HeadLink {
  listen(onMessage: (m: Message) => void, onClose: (reason: CloseReason) => void): void;
  send(m: Message): void;
  flush(): void;
  /** A worker's direct link to the head closed (see `tasks-in-hand`): a durable link reports its tasks to the next head. */
  inHand?(m: Extract<Message, { type: 'tasks-in-hand' }>): void;
}

/** A head link that survives heads. */
export class DetachableHead implements HeadLink {
  private channel: Channel | undefined;
  private readonly server: Server;
  private kept: Message[] = [];
  private keptLogBytes = 0;
  private droppedLogs = 0;
  private hello: Extract<Message, { type: 'hello' }> | undefined;
  /** Where this agent serves object transfers: every head learns it after the hello (each head sends its own token back). */
  private transferReady: Extract<Message, { type: 'transfer-ready' }> | undefined;
  /** Tasks sent to workers and not finished: task id -> lease id (or `actor:<id>`). */
  private readonly running = new Map<string, string>();
  /** Leases and actors the current head holds on this agent. */
  private readonly held = new Set<string>();
  /**
   * Results sent to the head in the last moments: they may have died in the socket with it, or
   * before its session recorded them. The next head gets them again (a head that had one ignores
   * it), so it adopts such a task instead of running it again.
   */
  private readonly sentRecently = new DirectLinkTasks();
  /** Actors whose worker lives (created here and not killed): reported to every new head. */
  private readonly actors = new Set<string>();
  /** Leases of a previous head that end once their running tasks finish. */
  private readonly orphanLeases = new Set<string>();
  private graceTimer: NodeJS.Timeout | undefined;
  /** The head this agent worked for last (from its head-hello). */
  private headId: string | undefined;
  private onMessage: (m: Message) => void = () => {};
  private onClose: (reason: CloseReason) => void = () => {};
  /** What a head must show first (written to `<base>.secret` before the socket exists). */
  private readonly secret = newPeerSecret();

  constructor(
    private readonly socketPath: string,
    private readonly graceMs: number,
    private readonly log: (line: string) => void,
  ) {
    rmSync(socketPath, { force: true });
    writePrivateFile(agentFile(socketPath, 'secret'), `${this.secret}\n`);
    // However the agent ends, its socket and secret mean nothing afterwards (the log stays to say why).
    process.once('exit', () => removeAgentFiles(socketPath, true));
    this.server = createServer((sock) => void this.authenticate(sock));
    this.server.listen(socketPath, () => {
      try {
        chmodSync(socketPath, 0o600);
      } catch {
        // Ended before it listened: no socket left to protect.
      }
    });
    this.startGrace('no head connected yet');
  }

  listen(onMessage: (m: Message) => void, onClose: (reason: CloseReason) => void): void {
    this.onMessage = onMessage;
    this.onClose = onClose;
  }

  send(m: Message): void {
    if (m.type === 'hello' || m.type === 'transfer-ready') {
      // Every head gets them first on connecting (see adopt), never from the kept messages.
      if (m.type === 'hello') this.hello = m;
      else this.transferReady = m;
      if (this.channel && !this.channel.isClosed) this.channel.send(m);
      return;
    }
    if (m.type === 'done' || m.type === 'failed') this.finished(m.taskId);
    if (m.type === 'worker-died' && m.actorId) this.actors.delete(m.actorId);
    if (this.channel && !this.channel.isClosed) {
      this.sentRecently.sending(m);
      return this.channel.send(m);
    }
    // A usage sample is stale by the time a head connects: not kept.
    if (m.type === 'usage') return;
    if (m.type === 'log') {
      if (this.keptLogBytes > LOG_BUDGET_BYTES) return void this.droppedLogs++;
      this.keptLogBytes += m.text.length;
    }
    this.kept.push(m);
  }

  flush(): void {
    this.channel?.flush();
  }

  /** A connection counts as a head only once it showed the secret. */
  private async authenticate(sock: Socket): Promise<void> {
    sock.on('error', () => sock.destroy());
    const shown = await readPreamble(sock, {
      what: "the agent's secret",
      maxBytes: 128,
      timeoutMs: SECRET_TIMEOUT_MS,
    }).catch(() => undefined);
    if (!secretMatches(shown, this.secret)) {
      this.log(`orrery agent: refused a connection to ${this.socketPath} that did not show this agent's secret`);
      sock.destroy();
      return;
    }
    this.adopt(sock);
  }

  /** A head connected: it replaces the current one (a head that reconnects after sleep). */
  private adopt(sock: Socket): void {
    const previous = this.channel;
    const channel = new Channel(sock, sock, 'head');
    this.channel = channel;
    if (previous && !previous.isClosed) previous.close('a new head connected');
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    channel.listen(
      (m) => this.fromHead(m),
      (reason) => {
        if (this.channel !== channel) return;
        this.channel = undefined;
        if (reason === 'shutdown') return;
        const recent = this.sentRecently.lost('head link');
        if (recent?.type === 'tasks-in-hand') this.kept.push(...recent.results);
        this.log(
          `orrery agent: head link closed (${reason ?? 'end of stream'}); keeping ${this.running.size} running task(s) for ${Math.round(this.graceMs / 1000)} s`,
        );
        this.startGrace(reason ?? 'end of stream');
      },
    );
    const unreported = this.kept.flatMap((m) => (m.type === 'done' || m.type === 'failed' ? [m.taskId] : []));
    if (this.hello)
      channel.send({
        ...this.hello,
        resumed: { running: [...this.running.keys(), ...unreported], actors: [...this.actors] },
      });
    if (this.transferReady) channel.send(this.transferReady);
    const kept = this.kept;
    this.kept = [];
    this.keptLogBytes = 0;
    if (this.droppedLogs > 0) {
      this.log(
        `orrery agent: ${this.droppedLogs} log chunk(s) written while no head was connected were dropped (over 1 MiB)`,
      );
      this.droppedLogs = 0;
    }
    for (const m of kept) channel.send(m);
  }

  private fromHead(m: Message): void {
    if (m.type === 'head-hello') {
      // Another head's leases and actors mean nothing to this one.
      if (this.headId !== undefined && this.headId !== m.headId) this.orphanAllLeases();
      this.headId = m.headId;
      return;
    }
    if (m.type === 'run') {
      const holder = m.kind === 'task' ? m.leaseId : `actor:${m.actorId}`;
      this.running.set(m.taskId, holder);
      this.held.add(holder);
      if (m.kind === 'actor-create' && m.actorId) this.actors.add(m.actorId);
    }
    if (m.type === 'lease-end') this.held.delete(m.leaseId);
    if (m.type === 'kill-actor') {
      this.held.delete(`actor:${m.actorId}`);
      this.actors.delete(m.actorId);
    }
    if (m.type === 'shutdown') {
      this.channel?.close('shutdown');
      this.server.close();
      removeAgentFiles(this.socketPath, false);
    }
    this.onMessage(m);
  }

  inHand(m: Extract<Message, { type: 'tasks-in-hand' }>): void {
    for (const t of m.tasks) this.running.set(t.taskId, t.holder);
    // Kept for the next head even when this link looks open: it may be the dead head's, not yet
    // seen closed. A head that already had a result ignores it the second time.
    for (const r of m.results) {
      this.finished(r.taskId);
      if (this.channel && !this.channel.isClosed) this.channel.send(r);
      this.kept.push(r);
    }
  }

  private finished(taskId: string): void {
    const lease = this.running.get(taskId);
    this.running.delete(taskId);
    if (lease && this.orphanLeases.has(lease)) this.endOrphanIfIdle(lease);
  }

  /**
   * A lost head's leases mean nothing to the next one: they end once idle. Its actors stay: the
   * next head heard of them in its hello and adopts or kills each.
   */
  private orphanAllLeases(): void {
    for (const holder of this.held) if (!holder.startsWith('actor:')) this.orphanLeases.add(holder);
    for (const holder of this.orphanLeases) this.held.delete(holder);
    for (const holder of [...this.orphanLeases]) this.endOrphanIfIdle(holder);
  }

  private endOrphanIfIdle(lease: string): void {
    for (const l of this.running.values()) if (l === lease) return;
    this.orphanLeases.delete(lease);
    if (lease.startsWith('actor:')) this.onMessage({ type: 'kill-actor', actorId: lease.slice('actor:'.length) });
    else this.onMessage({ type: 'lease-end', leaseId: lease });
  }

  private startGrace(why: string): void {
    this.graceTimer = setTimeout(() => {
      this.log(`orrery agent: no head for ${Math.round(this.graceMs / 1000)} s (${why}); ending`);
      this.server.close();
      removeAgentFiles(this.socketPath, true);
      this.onClose('grace period over');
    }, this.graceMs);
  }
}
