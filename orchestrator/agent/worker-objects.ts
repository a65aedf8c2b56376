/**
 * A worker's side of node-local objects: large results and puts are handed to the agent (they
 * stay on this node; the head learns only where they are), and arguments held by a node are
 * read from this node's agent when it has them, else through the head.
 */
import { fromErrorInfo } from '../core/errors.ts';
import { mappedBytes, type Payload } from '../core/serialization.ts';
import { payloadBytes, SHM_MIN_BYTES, type ShmFolder } from '../core/shared-memory.ts';
import { unchangedFileOf } from '../core/shm-map.ts';
import { INLINE_VALUE_MAX, type Message, type ObjectResult } from '../protocol/messages.ts';

/** What the head gets instead of a value that stayed on the node. */
export interface Offloaded {
  readonly payload: Payload;
  readonly sizeBytes: number;
}

/** Talks to the agent about objects. */
export class WorkerObjects {
  private readonly fetches = new Map<string, ((p: Payload | undefined) => void)[]>();

  constructor(
    private readonly toAgent: (m: Message) => void,
    /** The agent's shared-memory folder (local nodes): large values are written there, not sent. */
    private readonly shm?: ShmFolder,
  ) {}

  /** Keeps a large value on this node and returns its stand-in; undefined for values small enough to travel inline. */
  offload(id: string, p: Payload): Offloaded | undefined {
    if (p.data.byteLength <= INLINE_VALUE_MAX) return undefined;
    this.toAgent({ type: 'store-object', objectId: id, payload: this.shared(p) });
    const empty = new Uint8Array(0);
    return {
      payload: p.typed ? { data: empty, marked: p.marked, typed: p.typed } : { data: empty, marked: p.marked },
      sizeBytes: payloadBytes(p),
    };
  }

  /**
   * `p` in the agent's shared memory when it is large enough: a view of an argument's mapped
   * file that the task left unchanged becomes a second name of that file (no copy), anything
   * else is written once.
   */
  private shared(p: Payload): Payload {
    if (!this.shm || p.data.byteLength < SHM_MIN_BYTES) return p;
    const file = unchangedFileOf(p.data);
    return (file && this.shm.link(file, p.data.byteLength, p)) || this.shm.write(p.data, p) || p;
  }

  /** An argument's value: from this node's agent if it holds it, else fetched through the head by `get`. */
  async fetch(id: string, get: (id: string) => Promise<ObjectResult>): Promise<Payload> {
    const local = mapped(await this.fromAgent(id));
    if (local) return local;
    const r = await get(id);
    if (!r.ok) throw fromErrorInfo(r.error);
    return r.payload;
  }

  /** The agent answered a fetch. */
  arrived(m: Extract<Message, { type: 'object' }>): void {
    const w = this.fetches.get(m.objectId);
    if (!w) return;
    this.fetches.delete(m.objectId);
    for (const cb of w) cb(m.payload);
  }

  private fromAgent(id: string): Promise<Payload | undefined> {
    return new Promise((resolve) => {
      const w = this.fetches.get(id);
      if (w) return w.push(resolve);
      this.fetches.set(id, [resolve]);
      this.toAgent({ type: 'fetch', objectId: id });
    });
  }
}

/**
 * A value from the agent with its shared-memory file mapped now, while the agent surely still
 * has it (a spill removes the file later; the mapping stays valid). Undefined when it is gone.
 */
function mapped(p: Payload | undefined): Payload | undefined {
  if (!p?.shm) return p;
  try {
    const data = mappedBytes(p.shm);
    return p.typed ? { data, marked: p.marked, typed: p.typed } : { data, marked: p.marked };
  } catch {
    return undefined;
  }
}
