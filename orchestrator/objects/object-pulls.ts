/**
 * The head's pulls of values that stayed on the node that made them: one `pull` message per
 * object and node at a time, answered by the agent's `object` message (or by the node's death).
 */
import type { Payload } from '../core/serialization.ts';
import type { Message } from '../protocol/messages.ts';

/** Outstanding pulls from nodes. */
export class ObjectPulls {
  private readonly pending = new Map<
    string,
    { readonly nodeId: string; readonly promise: Promise<Payload | undefined>; resolve(p: Payload | undefined): void }
  >();

  /** `send` returns false when the node is gone (the pull then finds nothing). */
  constructor(private readonly send: (nodeId: string, m: Message) => boolean) {}

  /** The value of `id` from `nodeId`, or undefined if the node does not have it (any more). */
  pull(nodeId: string, id: string): Promise<Payload | undefined> {
    const key = `${nodeId}\n${id}`;
    const known = this.pending.get(key);
    if (known) return known.promise;
    let resolve!: (p: Payload | undefined) => void;
    const promise = new Promise<Payload | undefined>((r) => (resolve = r));
    this.pending.set(key, { nodeId, promise, resolve });
    if (!this.send(nodeId, { type: 'pull', objectId: id })) this.arrived(nodeId, id, undefined);
    return promise;
  }

  /** A node answered a pull. */
  arrived(nodeId: string, id: string, payload: Payload | undefined): void {
    const key = `${nodeId}\n${id}`;
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    p.resolve(payload);
  }

  /** A node died: its pulls find nothing. */
  nodeDied(nodeId: string): void {
    for (const [key, p] of this.pending) {
      if (p.nodeId !== nodeId) continue;
      this.pending.delete(key);
      p.resolve(undefined);
    }
  }
}
