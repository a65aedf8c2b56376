/**
 * The head's part in direct transfers between nodes: it hands every agent the head's transfer
 * token (over the agent's authenticated link), learns where each agent serves its objects, tells
 * an agent that needs an object which nodes hold it, remembers the copies agents made and the
 * pairs of nodes that could not reach each other (those pairs go through the head from then
 * on), and counts the bytes each object moved directly and through the head (State API).
 */
import { newPeerSecret } from '../protocol/peer-secret.ts';
import { OBJECT_TRANSFER_MODES, type ObjectTransferMode } from '../protocol/agent-spec.ts';
import type { Message, TransferAddress, TransferSource } from '../protocol/messages.ts';

/** What a node announced about its transfer server. */
interface Endpoint {
  readonly address: TransferAddress;
  readonly hostname: string;
  readonly mode: ObjectTransferMode;
}

/** Bytes an object moved between processes, by way. */
export interface TransferCounts {
  /** Agent to agent. */
  directBytes: number;
  /** Through the head (pulled from a node by the head). */
  relayBytes: number;
  /** Milliseconds the direct transfers took (summed). */
  directMs: number;
}

/** Where objects are and how they move. */
export class TransferRoutes {
  /** Given to every agent; agents show it to each other. */
  private readonly token = newPeerSecret();
  private readonly endpoints = new Map<string, Endpoint>();
  /** Nodes holding a fetched copy of an object (besides the node that made it). */
  private readonly copies = new Map<string, Set<string>>();
  private readonly counts = new Map<string, TransferCounts>();
  /** `from\nto` pairs whose direct transfer could not connect. */
  private readonly unreachable = new Set<string>();

  constructor(
    private readonly isAlive: (nodeId: string) => boolean,
    /**
     * True for a node that shares memory with the head (core/shared-memory.ts): between two such
     * nodes a value moves through the head by linking its file, with no copy, faster than any
     * socket, so `auto` offers no direct source (`direct` still does).
     */
    private readonly sharesMemory: (nodeId: string) => boolean = () => false,
  ) {}

  /** A node's server listens: the reply carries the token (undefined: the announcement is malformed, and ignored). */
  ready(nodeId: string, m: Extract<Message, { type: 'transfer-ready' }>): Message | undefined {
    if (!isAnnouncement(m)) return undefined;
    this.endpoints.set(nodeId, { address: m.address, hostname: m.hostname, mode: m.mode });
    return { type: 'transfer-key', token: this.token };
  }

  /**
   * Nodes `nodeId` may fetch `objectId` from, best first: the node that made it, then copies.
   * None when either side is set to relay, a pair could not connect before, or a loopback
   * address belongs to another machine.
   */
  sources(nodeId: string, objectId: string, holder: string | undefined): TransferSource[] {
    const to = this.endpoints.get(nodeId);
    if (!to || to.mode === 'relay') return [];
    const toShares = this.sharesMemory(nodeId);
    const out: TransferSource[] = [];
    const candidates = [...(holder ? [holder] : []), ...(this.copies.get(objectId) ?? [])];
    for (const from of new Set(candidates)) {
      const e = this.endpoints.get(from);
      if (from === nodeId || !e || e.mode === 'relay' || e.address.port === 0 || !this.isAlive(from)) continue;
      if (to.mode === 'auto' && e.mode === 'auto' && this.unreachable.has(`${from}\n${nodeId}`)) continue;
      if (isLoopback(e.address.host) && e.hostname !== to.hostname) continue;
      if (toShares && to.mode === 'auto' && e.mode === 'auto' && this.sharesMemory(from)) continue;
      out.push({ nodeId: from, ...e.address });
    }
    return out;
  }

  /** `nodeId` fetched a copy directly. */
  copied(nodeId: string, m: Extract<Message, { type: 'object-copied' }>): void {
    let c = this.copies.get(m.objectId);
    if (!c) this.copies.set(m.objectId, (c = new Set()));
    c.add(nodeId);
    const moved = this.countsOf(m.objectId);
    moved.directBytes += m.bytes;
    moved.directMs += m.ms;
  }

  /** A direct fetch by `nodeId` failed; one that could not connect sends that pair through the head from now on. */
  failed(nodeId: string, m: Extract<Message, { type: 'transfer-failed' }>): void {
    if (m.unreachable) this.unreachable.add(`${m.fromNodeId}\n${nodeId}`);
  }

  /** The head pulled `bytes` of an object from a node. */
  relayed(objectId: string, bytes: number): void {
    this.countsOf(objectId).relayBytes += bytes;
  }

  /** Nodes holding fetched copies of an object. */
  copiesOf(objectId: string): readonly string[] {
    return [...(this.copies.get(objectId) ?? [])];
  }

  /** A live node holding a fetched copy of an object (it takes over when the node that made it dies). */
  liveCopy(objectId: string): string | undefined {
    for (const n of this.copies.get(objectId) ?? []) if (this.isAlive(n)) return n;
    return undefined;
  }

  /** Bytes an object moved so far (zeros when it never moved). */
  moved(objectId: string): Readonly<TransferCounts> {
    return this.counts.get(objectId) ?? { directBytes: 0, relayBytes: 0, directMs: 0 };
  }

  /** An object was freed: the nodes holding copies of it (to drop them there). */
  freed(objectId: string): readonly string[] {
    const c = this.copiesOf(objectId);
    this.copies.delete(objectId);
    this.counts.delete(objectId);
    return c;
  }

  /** A node died: its copies and its server are gone. */
  nodeDied(nodeId: string): void {
    this.endpoints.delete(nodeId);
    for (const c of this.copies.values()) c.delete(nodeId);
  }

  private countsOf(objectId: string): TransferCounts {
    let c = this.counts.get(objectId);
    if (!c) this.counts.set(objectId, (c = { directBytes: 0, relayBytes: 0, directMs: 0 }));
    return c;
  }
}

/** The announcement's fields as the head uses them (the message arrives unchecked below its type). */
function isAnnouncement(m: Extract<Message, { type: 'transfer-ready' }>): boolean {
  const a = m.address as Partial<TransferAddress> | undefined;
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof a.host === 'string' &&
    Number.isInteger(a.port) &&
    a.port! >= 0 &&
    a.port! < 65536 &&
    typeof m.hostname === 'string' &&
    (OBJECT_TRANSFER_MODES as readonly unknown[]).includes(m.mode)
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
