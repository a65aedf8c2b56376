/**
 * The Backend contract: the only thing the head knows about a backend. A backend brings nodes
 * (agent byte streams) into the cluster and owns its own connections.
 */
import type { Readable, Writable } from 'node:stream';
import type { AgentSpec } from '../orchestrator/protocol/agent-spec.ts';

export type { AgentSpec } from '../orchestrator/protocol/agent-spec.ts';

/** A byte stream to a node agent, and a way to end it. */
export interface AgentStream {
  readonly input: Readable;
  readonly output: Writable;
  /** Ends the agent (SIGKILL locally; close the channel remotely). */
  kill(): void;
}

/** What the head offers a backend. */
export interface BackendHost {
  /** Path of the agent's entry script on this machine, and the node flags to run it with. */
  readonly agentEntry: string;
  readonly agentExecArgv: readonly string[];
  /**
   * Where workers on this machine can reach the head directly (skipping the agent relay). The head
   * answers only workers showing its link secret, which agents started through startLocalAgent
   * get; other agents' workers use the relay.
   */
  readonly workerSocket: string;
  /** Registers an agent stream as a node; resolves once the agent said hello. */
  attach(stream: AgentStream, spec: AgentSpec): Promise<void>;
  /** A line for the driver's log. */
  log(line: string): void;
  /** Takes an idle node out of scheduling before the backend ends it (scale-down, not a failure). */
  retire(nodeId: string): void;
  /**
   * Starts an agent as a child process on this machine and attaches it (the local backend's
   * nodes, and the virtual nodes of job-style backends whose workers call a remote service).
   * `env` is added to the agent's environment and inherited by its workers.
   */
  startLocalAgent(spec: LocalAgentSpec, env?: Readonly<Record<string, string>>, key?: string): Promise<LocalNode>;
  /**
   * Set when the head runs as a service (`orrery start`): agents should outlive it for
   * `graceS` seconds (AgentSpec.listen) so a restarted head reattaches to running work. `runDir`
   * is where local agents' sockets live. A backend names each agent by a stable key so the next
   * head finds the same agent (local agents: the `key` of startLocalAgent).
   */
  readonly durable?: {
    readonly graceS: number;
    readonly runDir: string;
    /** True when resuming a session: agents and allocations a previous head left are taken over (otherwise they are replaced). */
    readonly reattach: boolean;
  };
}

/** What a local agent is started with: the node's resources and labels. */
export type LocalAgentSpec = Omit<AgentSpec, 'nodeId' | 'backend' | 'headSocket'>;

/** A started local agent. */
export interface LocalNode {
  readonly nodeId: string;
  /** Resolves when the agent process has exited (killed, crashed or shut down). */
  readonly exited: Promise<void>;
  /** SIGKILLs the agent and its workers. */
  kill(): Promise<void>;
}

/** A node shape an elastic backend can add (user-facing amounts, e.g. `{ CPU: 8, GPU: 1 }`). */
export interface NodeShape {
  readonly resources: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Work the scheduler could not place, of one shape (Ray's autoscaler demand). A backend counts
 * what one of its nodes could run with core/shape-fit.ts's demandFitsShape.
 */
export interface ResourceDemand {
  readonly resources: Readonly<Record<string, number>>;
  readonly labelSelector: Readonly<Record<string, string>> | undefined;
  /** The backend the work names (its `backend` option or a placement rule), or undefined when any may run it. */
  readonly backend: string | undefined;
  readonly count: number;
  /** Each of `count` needs a node of its own (the bundles of a STRICT_SPREAD placement group, e.g. a gang's ranks). */
  readonly separateNodes?: boolean;
  /** With separateNodes: the placement group the bundle belongs to (the slurm backend allocates a group's nodes as one job). */
  readonly group?: string;
}

/** A node of this backend with nothing running, and for how long. */
export interface IdleNode {
  readonly nodeId: string;
  readonly idleMs: number;
}

/** What an elastic backend (Slurm, cloud, a test backend) implements to add and remove nodes. */
export interface ElasticBackend {
  /** Shapes of nodes it could add: requests that fit one are feasible even before a node exists. */
  shapes(): readonly NodeShape[];
  /**
   * Called about once a second: the pending demand this backend may serve and its idle nodes.
   * The backend adds nodes (host.attach) up to its limits and ends idle ones (host.retire, then close).
   */
  scale(demand: readonly ResourceDemand[], idle: readonly IdleNode[]): void;
}

/** A pluggable backend. */
export interface Backend {
  readonly name: string;
  readonly kind: string;
  /** Connects and brings up the backend's initial nodes. */
  start(host: BackendHost): Promise<void>;
  /** Releases everything the backend holds. */
  shutdown(): Promise<void>;
  /** Present on backends that add and remove nodes on demand. */
  readonly elastic?: ElasticBackend;
  /**
   * Checks the backend end to end for `orrery backends test` (connection, host key, node version,
   * GPUs, partition): resolves with lines of what it found, or throws BackendError saying what is wrong.
   */
  check?(): Promise<string[]>;
  /**
   * Removes what the backend keeps on its hosts and no longer uses, for `orrery backends clean`
   * (old agent bundles, runtimes, environments, working folders unused for `olderThanDays`):
   * resolves with lines saying what was removed and how many bytes.
   */
  clean?(options: { readonly olderThanDays: number }): Promise<string[]>;
}

/** Config keys every backend has. */
export interface BackendConfigBase {
  readonly name: string;
  readonly kind: string;
}
