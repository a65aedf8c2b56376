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
   * Plain tasks of every lease run concurrently in one worker process instead of one worker per
   * lease: for job-style nodes whose tasks mostly wait on a remote service (the quantum backends'
   * batching nodes), where a process per task would cost more than the task.
   */
  readonly sharedWorker?: boolean;
}
