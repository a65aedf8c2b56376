/**
 * A node's side of direct transfers: it serves the objects it holds to other agents of its head
 * (object-transfer-server.ts), and when one of its workers needs an object the node lacks, it
 * asks the head where the object is (`locate`) and fetches it from a node that holds it
 * (object-transfer-client.ts), trying each copy the head names in turn. The fetched value is
 * kept as a copy here (the head learns of it with `object-copied`). When no copy can be fetched
 * the worker gets the value through the head, as before: that is the relay.
 */
import { networkInterfaces, hostname } from 'node:os';
import type { Payload } from '../core/serialization.ts';
import type { AgentSpec, ObjectTransferMode } from '../protocol/agent-spec.ts';
import type { Message, TransferSource } from '../protocol/messages.ts';
import { fetchFromPeer } from './object-transfer-client.ts';
import { ObjectTransferServer } from './object-transfer-server.ts';
import { ObjectTransferError } from './object-transfer-wire.ts';

/** How long the head may take to say where an object is. */
const LOCATE_TIMEOUT_MS = 30_000;

/** What transfers need from the agent. */
export interface AgentTransfersIO {
  send(m: Message): void;
  /** A value this node holds (waiting briefly for one still arriving from a worker). */
  lookup(objectId: string): Promise<Payload | undefined>;
  /** Keeps a fetched copy in the node's store; returns the payload to hand to workers. */
  keep(objectId: string, p: Payload): Payload;
}

/** Direct transfers of one agent. */
export class AgentTransfers {
  private token: string | undefined;
  private readonly server: ObjectTransferServer;
  private readonly locating = new Map<string, (sources: readonly TransferSource[]) => void>();
  private readonly fetching = new Map<string, Promise<Payload | undefined>>();
  private readonly mode: ObjectTransferMode;

  constructor(
    private readonly config: AgentSpec,
    private readonly io: AgentTransfersIO,
  ) {
    this.mode = config.objectTransfer ?? 'auto';
    const cut = Number(process.env.ORRERY_TEST_TRANSFER_CUT_BYTES);
    const delay = Number(process.env.ORRERY_TEST_TRANSFER_CHUNK_DELAY_MS);
    this.server = new ObjectTransferServer({
      token: () => this.token,
      lookup: (id) => io.lookup(id),
      cutAfterBytes: Number.isSafeInteger(cut) && cut > 0 ? cut : undefined,
      chunkDelayMs: delay > 0 ? delay : undefined,
    });
  }

  /**
   * Starts the server and tells the head where it listens. Local nodes listen on loopback; others
   * on `transferBind` (default every interface) and name their first outside IPv4 address.
   */
  async start(): Promise<void> {
    if (this.mode === 'relay') return this.io.send(this.ready({ host: '', port: 0 }));
    const bind = this.config.transferBind ?? (this.config.headSocket ? '127.0.0.1' : '0.0.0.0');
    try {
      const port = await this.server.listen(bind);
      // Test hook: announce an address nobody listens on, as a node behind another network would be.
      const unreachable = process.env.ORRERY_TEST_TRANSFER_ANNOUNCE_PORT;
      this.io.send(this.ready({ host: advertised(bind), port: unreachable ? Number(unreachable) : port }));
    } catch (err) {
      this.io.send({
        type: 'log',
        workerId: '',
        stream: 'stderr',
        text: `orrery: node ${this.config.nodeId} cannot listen for object transfers on ${bind} (${(err as Error).message}); its objects go through the head. Set transferBind in the backend's config.\n`,
      });
      this.io.send(this.ready({ host: '', port: 0 }));
    }
  }

  /** A message from the head about transfers; false when it is not one. */
  fromHead(m: Message): boolean {
    if (m.type === 'transfer-key') this.token = m.token;
    else if (m.type === 'located') {
      const r = this.locating.get(m.objectId);
      this.locating.delete(m.objectId);
      r?.(m.sources);
    } else return false;
    return true;
  }

  /** An object this node lacks, fetched directly from another node (undefined: get it through the head). */
  fetch(objectId: string): Promise<Payload | undefined> {
    if (this.mode === 'relay' || this.token === undefined) return Promise.resolve(undefined);
    let f = this.fetching.get(objectId);
    if (!f) {
      f = this.fetchDirect(objectId).finally(() => this.fetching.delete(objectId));
      this.fetching.set(objectId, f);
    }
    return f;
  }

  /** Stops serving (agent exit). */
  close(): void {
    this.server.close();
    for (const r of this.locating.values()) r([]);
    this.locating.clear();
  }

  private async fetchDirect(objectId: string): Promise<Payload | undefined> {
    for (const source of await this.locate(objectId)) {
      const started = performance.now();
      try {
        const got = await fetchFromPeer(source, this.token!, objectId);
        const kept = this.io.keep(objectId, got.payload);
        this.io.send({
          type: 'object-copied',
          objectId,
          fromNodeId: source.nodeId,
          bytes: got.bytes,
          ms: Math.round(performance.now() - started),
          resumes: got.resumes,
        });
        return kept;
      } catch (err) {
        this.io.send({
          type: 'transfer-failed',
          objectId,
          fromNodeId: source.nodeId,
          unreachable: err instanceof ObjectTransferError && err.unreachable,
          reason: (err as Error).message,
        });
      }
    }
    return undefined;
  }

  private locate(objectId: string): Promise<readonly TransferSource[]> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.locating.delete(objectId);
        resolve([]);
      }, LOCATE_TIMEOUT_MS);
      timer.unref();
      this.locating.set(objectId, (sources) => {
        clearTimeout(timer);
        resolve(sources);
      });
      this.io.send({ type: 'locate', objectId });
    });
  }

  private ready(address: { host: string; port: number }): Message {
    return { type: 'transfer-ready', address, hostname: hostname(), mode: this.mode };
  }
}

/** The address other nodes use for a server bound to `bind`: a wildcard names the machine's first outside IPv4. */
function advertised(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
