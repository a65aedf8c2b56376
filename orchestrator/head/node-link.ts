/** The head's side of one node agent: its channel, what it offers, and the code it already has. */
import type { AgentStream } from '../../backends/types.ts';
import { unitsOf, type ResourceSet } from '../core/resources.ts';
import type { Channel } from '../protocol/channel.ts';
import type { Message, ObjectResult } from '../protocol/messages.ts';
import { inlinePayload } from '../core/shared-memory.ts';

/** How long a shutdown waits for agents to end by themselves (removing their files) before backends kill them. */
const AGENT_EXIT_WAIT_MS = 3000;

/** A connected, detached (agent outliving a lost link) or dead node. */
export class NodeLink {
  readonly sentCode = new Set<string>();
  alive = true;
  /** Being removed by its backend for idleness: its end is not a failure. */
  retiring = false;
  deathReason: string | undefined;
  readonly total: ResourceSet;
  /**
   * Set while the link to an agent that outlives its head is down: messages wait here and the
   * node's tasks stay running until the agent is back or its grace period ends.
   */
  detached: { readonly outbox: Message[]; readonly timer: NodeJS.Timeout } | undefined;

  constructor(
    readonly nodeId: string,
    readonly backend: string,
    public channel: Channel,
    public stream: AgentStream,
    readonly resources: Readonly<Record<string, number>>,
    readonly labels: Readonly<Record<string, string>>,
    readonly pid: number,
    /** Seconds the agent outlives a lost link (undefined: the agent ends with its stream). */
    readonly graceS: number | undefined,
    /** The agent's shared-memory folder, when it is on this machine and visible here: payloads may name files in it. */
    readonly shmDir: string | undefined = undefined,
  ) {
    this.total = unitsOf(resources);
  }

  /** Whether payloads to and from this node may name shared-memory files instead of carrying bytes. */
  get sharesMemory(): boolean {
    return this.shmDir !== undefined;
  }

  /** Sends a message if the node is alive (kept for later while detached). */
  send(m: Message): void {
    if (!this.alive) return;
    if (!this.sharesMemory) m = withBytes(m);
    if (this.detached) this.detached.outbox.push(m);
    else this.channel.send(m);
  }

  /** The agent is back on a new stream: what waited goes out. */
  reattach(channel: Channel, stream: AgentStream): void {
    const d = this.detached;
    this.channel = channel;
    this.stream = stream;
    this.detached = undefined;
    if (!d) return;
    clearTimeout(d.timer);
    for (const m of d.outbox) channel.send(m);
  }
}

/**
 * `m` with the values it names in the head's shared memory read into it (one copy), for a node
 * on another machine: run arguments and `get` replies are the messages that carry values there.
 */
function withBytes(m: Message): Message {
  if (m.type === 'run' && m.args.some((a) => a.shm)) return { ...m, args: m.args.map(inlinePayload) };
  if (m.type === 'reply' && Array.isArray(m.value) && (m.value as ObjectResult[]).some((r) => r?.ok && r.payload?.shm))
    return {
      ...m,
      value: (m.value as ObjectResult[]).map((r) =>
        r?.ok && r.payload?.shm ? { ...r, payload: inlinePayload(r.payload) } : r,
      ),
    };
  return m;
}

/**
 * Tells the agents of `nodes` to shut down and resolves once their links closed (they ended,
 * removing their files), or after `limitMs`: only then may their backends kill what is left.
 * Detached nodes cannot hear it and are not waited for.
 */
export async function endAgents(nodes: readonly NodeLink[], limitMs = AGENT_EXIT_WAIT_MS): Promise<void> {
  for (const n of nodes) {
    n.channel.send({ type: 'shutdown' });
    n.channel.flush();
  }
  const end = Date.now() + limitMs;
  while (nodes.some((n) => !n.channel.isClosed && !n.detached) && Date.now() < end)
    await new Promise((r) => setTimeout(r, 20));
}
