/**
 * The head's node table: agents join with a hello, may lose their link and come back within a
 * grace period (agents of a service head outlive it), die, or are retired by their backend for
 * idleness. What a node's death means for its work is the rest of the head's business
 * ({@link NodeHooks}); this table keeps the links, their states and their idle times.
 */
import type { AgentSpec, AgentStream, IdleNode } from '../../backends/types.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { addResources, type ResourceSet } from '../core/resources.ts';
import { sharesMemoryWith } from '../core/shared-memory.ts';
import { Channel } from '../protocol/channel.ts';
import type { Message } from '../protocol/messages.ts';
import type { HeadEvents } from './head-events.ts';
import { endAgents, NodeLink } from './node-link.ts';

const HELLO_TIMEOUT_MS = 60_000;

/** What the node table tells the rest of the head (assemble-head.ts wires it to the control layer). */
export interface NodeHooks {
  /** A node joined: work may be placed on it. */
  joined(node: NodeLink): void;
  /** A message from a node's agent, or over `link` from one of its workers directly. */
  message(node: NodeLink, m: Message, link?: Channel): void;
  /** A node died: its work fails over. */
  died(nodeId: string, why: string): void;
  /** Its backend retires an idle node: what still ran there runs again elsewhere. */
  retired(nodeId: string, why: string): void;
  /** An agent that outlived a head reports tasks it ran for it (their results follow) and the actors it hosts. */
  resumed(nodeId: string, taskIds: readonly string[], actorIds: readonly string[]): void;
  /** Nodes that hold at least one lease. */
  busyNodes(): Set<string>;
}

/** The nodes of a head, alive and dead. */
export class ClusterNodes {
  private readonly nodes = new Map<string, NodeLink>();
  /** When each live node last had no lease (absent while busy). */
  private readonly idleSince = new Map<string, number>();
  /** Set when the head shuts down: links that end are no longer failures to report. */
  private closing = false;

  constructor(
    /** This head's identity, told to every agent (an agent that outlived another head drops that head's leases). */
    private readonly headId: string,
    private readonly events: HeadEvents,
    private readonly hooks: NodeHooks,
    private readonly log: (line: string) => void,
  ) {}

  /** True once the head began shutting down. */
  get shuttingDown(): boolean {
    return this.closing;
  }

  /** A node by id (alive or dead). */
  get(nodeId: string): NodeLink | undefined {
    return this.nodes.get(nodeId);
  }

  /** Every node the head has seen, in join order. */
  all(): IterableIterator<NodeLink> {
    return this.nodes.values();
  }

  /** Sends to a live node (kept for later while its link is down); false if it is gone. */
  send(nodeId: string, m: Message): boolean {
    const n = this.nodes.get(nodeId);
    if (!n?.alive) return false;
    n.send(m);
    return true;
  }

  /** True while the node takes work (its link may be down within its grace period). */
  isAlive(nodeId: string): boolean {
    return this.nodes.get(nodeId)?.alive === true;
  }

  /** The backend a node belongs to ('' for an unknown node). */
  backendOf(nodeId: string): string {
    return this.nodes.get(nodeId)?.backend ?? '';
  }

  /** Live nodes' ids, in join order. */
  aliveIds(): string[] {
    return [...this.nodes.values()].filter((n) => n.alive).map((n) => n.nodeId);
  }

  /** The sum of `f` over the live nodes. */
  sumOver(f: (n: NodeLink) => ResourceSet): ResourceSet {
    let sum: ResourceSet = {};
    for (const n of this.nodes.values()) if (n.alive) sum = addResources(sum, f(n));
    return sum;
  }

  /**
   * Accepts an agent stream; resolves when the agent said hello and its node joined. An agent
   * that outlives heads (`spec.listen`) may come back on a new stream: the node carries on.
   */
  attach(stream: AgentStream, spec: AgentSpec): Promise<void> {
    const channel = new Channel(stream.input, stream.output, `node ${spec.nodeId}`);
    channel.send({ type: 'head-hello', headId: this.headId });
    return new Promise<void>((resolve, reject) => {
      let node: NodeLink | undefined;
      const timer = setTimeout(() => {
        stream.kill();
        reject(
          new Error(
            `node ${spec.nodeId} of backend ${spec.backend} did not say hello within ${HELLO_TIMEOUT_MS / 1000} s; check that its agent can start`,
          ),
        );
      }, HELLO_TIMEOUT_MS);
      channel.listen(
        (m) => {
          if (node) return this.hooks.message(node, m);
          if (m.type !== 'hello' || m.version !== PROTOCOL_VERSION) {
            channel.close(
              m.type === 'hello'
                ? `agent speaks protocol ${m.version}, head speaks ${PROTOCOL_VERSION}`
                : `first message was ${m.type}, not hello`,
            );
            return;
          }
          clearTimeout(timer);
          const known = this.nodes.get(m.nodeId);
          if (known?.alive) {
            node = known;
            known.reattach(channel, stream);
            this.log(`orrery: node ${known.nodeId} (${known.backend}) is back`);
          } else {
            node = new NodeLink(
              m.nodeId,
              spec.backend,
              channel,
              stream,
              m.resources,
              m.labels,
              m.pid,
              spec.listen ? (spec.graceS ?? 1800) : undefined,
              sharesMemoryWith(m.shmDir) ? m.shmDir : undefined,
            );
            this.nodes.set(node.nodeId, node);
            this.events.node({
              nodeId: node.nodeId,
              backend: node.backend,
              event: 'join',
              resources: node.resources,
              labels: node.labels,
            });
            this.hooks.joined(node);
          }
          if (m.resumed?.running.length || m.resumed?.actors?.length)
            this.hooks.resumed(node.nodeId, m.resumed.running, m.resumed.actors ?? []);
          resolve();
        },
        (reason) => {
          clearTimeout(timer);
          if (!node) {
            stream.kill();
            reject(
              new Error(
                `node ${spec.nodeId} of backend ${spec.backend} went away before it joined${reason ? `: ${reason}` : ''}`,
              ),
            );
            return;
          }
          if (node.channel === channel) this.linkLost(node, reason ?? 'its agent exited');
        },
      );
    });
  }

  /** Live nodes of a backend and how long each has been without leases. */
  idleNodes(backend: string): IdleNode[] {
    const busy = this.hooks.busyNodes();
    const now = Date.now();
    const out: IdleNode[] = [];
    for (const n of this.nodes.values()) {
      if (!n.alive || n.retiring || n.backend !== backend) continue;
      if (busy.has(n.nodeId)) {
        this.idleSince.delete(n.nodeId);
        out.push({ nodeId: n.nodeId, idleMs: 0 });
        continue;
      }
      if (!this.idleSince.has(n.nodeId)) this.idleSince.set(n.nodeId, now);
      out.push({ nodeId: n.nodeId, idleMs: now - this.idleSince.get(n.nodeId)! });
    }
    return out;
  }

  /** Scale-down: no new work goes to the node; its end is not a failure. */
  retire(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (!node?.alive) return;
    node.retiring = true;
    node.alive = false;
    node.deathReason = 'retired (idle)';
    this.idleSince.delete(nodeId);
    this.hooks.retired(nodeId, `node ${nodeId} was retired`);
  }

  /** A backend is being removed: its live nodes leave (their tasks retry elsewhere); resolves once their agents ended. */
  async removeBackend(name: string): Promise<void> {
    const leaving = [...this.nodes.values()].filter((n) => n.backend === name && n.alive);
    for (const n of leaving) {
      n.retiring = true;
      this.died(n, `backend ${name} was removed`, false);
    }
    await endAgents(leaving);
  }

  /** Shutdown, first step: losing links is expected from now on; the live agents are told to end (resolves once they did, or gave up waiting). */
  async endAll(): Promise<void> {
    this.closing = true;
    await endAgents([...this.nodes.values()].filter((n) => n.alive));
  }

  /** Shutdown, last step: every node counts as gone. */
  close(): void {
    for (const n of this.nodes.values()) n.alive = false;
  }

  /** A node's stream ended: an agent that outlives heads gets its grace period, others are dead. */
  private linkLost(node: NodeLink, reason: string): void {
    if (node.graceS === undefined || this.closing || node.retiring || !node.alive) return this.died(node, reason);
    if (node.detached) return;
    this.log(
      `orrery: lost the link to node ${node.nodeId} (${node.backend}): ${reason}; its tasks keep running there, waiting up to ${node.graceS} s for it to come back`,
    );
    const timer = setTimeout(() => {
      node.detached = undefined;
      this.died(node, `${reason}; it did not come back within ${node.graceS} s`);
    }, node.graceS * 1000);
    timer.unref();
    node.detached = { outbox: [], timer };
  }

  /** A node is gone: its work fails over. `endAgent` false: its backend is ending it (after the agent had time to clean up). */
  private died(node: NodeLink, reason: string, endAgent = true): void {
    if (!node.alive) return;
    node.alive = false;
    node.deathReason = reason;
    this.idleSince.delete(node.nodeId);
    this.events.node({ nodeId: node.nodeId, backend: node.backend, event: 'leave', reason });
    if (!this.closing) this.log(`orrery: node ${node.nodeId} (${node.backend}) is dead: ${reason}`);
    if (endAgent) node.stream.kill();
    this.hooks.died(node.nodeId, `node ${node.nodeId} died: ${reason}`);
  }
}
