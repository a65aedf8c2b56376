/**
 * What a node agent is told about its node when it starts: the backend that starts it sends
 * this as JSON (the first line of the agent's stdin, before the frames, or a 0600 spec file;
 * never a command line, which every user of the host can read). The Backend contract
 * (backends/types.ts) and the agent (agent/agent-main.ts) share this one type.
 */

/** The node's id, resources and labels, and how the agent reaches its head. */
export interface AgentSpec {
  readonly nodeId: string;
  /** Name of the backend that owns the node. */
  readonly backend: string;
  /** CPUs offered (default: all of the machine's). */
  readonly numCpus?: number;
  /** GPUs offered (default: what nvidia-smi finds). */
  readonly numGpus?: number;
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** A Unix socket path where the head accepts direct worker links (same machine only). */
  readonly headSocket?: string;
  /** Outlive the head: serve heads on this Unix socket (`agent-main --bridge` reaches it; see agent/detachable-head.ts). */
  readonly listen?: string;
  /** Seconds such an agent waits for a head before ending (default 1800). */
  readonly graceS?: number;
  /** Bytes of large values the node keeps in memory before it spills them to its disk (default: 30% of its RAM). */
  readonly objectStoreMemory?: number;
  /**
   * How other nodes fetch this node's objects: `direct` (agent to agent), `relay` (through the
   * head) or `auto` (direct, falling back to the head for pairs of nodes that cannot reach each
   * other; the default).
   */
  readonly objectTransfer?: ObjectTransferMode;
  /** Address the object transfer server binds (default: 127.0.0.1 for local nodes, 0.0.0.0 elsewhere). */
  readonly transferBind?: string;
  /**
   * Plain tasks of every lease run concurrently in one worker process instead of one worker per
   * lease: for job-style nodes whose tasks mostly wait on a remote service (the quantum backends'
   * batching nodes), where a process per task would cost more than the task.
   */
  readonly sharedWorker?: boolean;
}

/** The ways values move between nodes (AgentSpec.objectTransfer). */
export const OBJECT_TRANSFER_MODES = ['direct', 'relay', 'auto'] as const;
/** One of OBJECT_TRANSFER_MODES. */
export type ObjectTransferMode = (typeof OBJECT_TRANSFER_MODES)[number];

/**
 * Checks a backend config's `objectTransfer` and `transferBind`; the message of the error it
 * returns names the field and the allowed values (undefined: valid).
 */
export function transferConfigProblem(c: {
  readonly objectTransfer?: unknown;
  readonly transferBind?: unknown;
}): string | undefined {
  if (c.objectTransfer !== undefined && !(OBJECT_TRANSFER_MODES as readonly unknown[]).includes(c.objectTransfer))
    return `objectTransfer must be one of ${OBJECT_TRANSFER_MODES.map((m) => `'${m}'`).join(', ')} (got ${JSON.stringify(c.objectTransfer)})`;
  if (
    c.transferBind !== undefined &&
    (typeof c.transferBind !== 'string' || !/^[0-9A-Za-z.:-]{1,253}$/.test(c.transferBind))
  )
    return `transferBind must be an IP address or host name to listen on, such as '0.0.0.0' (got ${JSON.stringify(c.transferBind)})`;
  return undefined;
}
