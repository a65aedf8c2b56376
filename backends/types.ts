/**
 * The Backend contract: the only thing the head knows about a backend. A backend brings nodes
 * (agent byte streams) into the cluster and owns its own connections.
 */
import type { Readable, Writable } from 'node:stream';

/** A byte stream to a node agent, and a way to end it. */
export interface AgentStream {
  readonly input: Readable;
  readonly output: Writable;
  /** Ends the agent (SIGKILL locally; close the channel remotely). */
  kill(): void;
}

/** What an agent is told about its node. */
export interface AgentSpec {
  readonly nodeId: string;
  readonly backend: string;
  readonly numCpus?: number;
  readonly numGpus?: number;
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** A Unix socket path where the head accepts direct worker links (same machine only). */
  readonly headSocket?: string;
}

/** What the head offers a backend. */
export interface BackendHost {
  /** Path of the agent's entry script on this machine, and the node flags to run it with. */
  readonly agentEntry: string;
  readonly agentExecArgv: readonly string[];
  /** Where workers on this machine can reach the head directly (skipping the agent relay). */
  readonly workerSocket: string;
  /** Registers an agent stream as a node; resolves once the agent said hello. */
  attach(stream: AgentStream, spec: AgentSpec): Promise<void>;
  /** A line for the driver's log. */
  log(line: string): void;
}

/** A pluggable backend. */
export interface Backend {
  readonly name: string;
  readonly kind: string;
  /** Connects and brings up the backend's initial nodes. */
  start(host: BackendHost): Promise<void>;
  /** Releases everything the backend holds. */
  shutdown(): Promise<void>;
}

/** Config keys every backend has. */
export interface BackendConfigBase {
  readonly name: string;
  readonly kind: string;
}
