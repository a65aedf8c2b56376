/** The head's side of one node agent: its channel, what it offers, and the code it already has. */
import type { AgentStream } from '../../backends/types.ts';
import { unitsOf, type ResourceSet } from '../core/resources.ts';
import type { Channel } from '../protocol/channel.ts';
import type { Message } from '../protocol/messages.ts';

/** A connected (or dead) node. */
export class NodeLink {
  readonly sentCode = new Set<string>();
  alive = true;
  /** Being removed by its backend for idleness: its end is not a failure. */
  retiring = false;
  deathReason: string | undefined;
  readonly total: ResourceSet;

  constructor(
    readonly nodeId: string,
    readonly backend: string,
    readonly channel: Channel,
    readonly stream: AgentStream,
    readonly resources: Readonly<Record<string, number>>,
    readonly labels: Readonly<Record<string, string>>,
    readonly pid: number,
  ) {
    this.total = unitsOf(resources);
  }

  /** Sends a message if the node is alive. */
  send(m: Message): void {
    if (this.alive) this.channel.send(m);
  }
}
