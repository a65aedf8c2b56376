/** What a head is built with (head.ts, assembled in assemble-head.ts). */
import type { Payload } from '../core/serialization.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import type { SecretSource } from '../control/task-secrets.ts';
import type { RetryCandidate } from '../control/task-retry.ts';
import type { ModulePolicy } from './module-backends.ts';

/**
 * Given to a head resuming a session (session-resume.ts): an agent that outlived the previous
 * head reports a task this head never submitted, and the adoption says whether to take it over
 * (TaskManager.adopt), so that its result is collected.
 */
export interface TaskAdoption {
  /** The task to adopt as it was submitted, its job and attempt; undefined to leave it. */
  adoptable(
    taskId: string,
  ): { readonly spec: TaskSubmission; readonly jobId: string; readonly attempt: number } | undefined;
  /**
   * An actor that an agent which outlived the previous head still hosts: its creation as the
   * session recorded it (its class, options, name and namespace; no arguments: it is not run
   * again), to adopt with its worker and state; undefined to end it (the session does not have
   * it, or shows it dead).
   */
  actor?(actorId: string): AdoptableActor | undefined;
  /**
   * A task of the session as it was recorded (by an earlier head, or this one), for `orrery
   * retry` of a task this head did not submit (control/task-retry.ts); undefined when the
   * session has none with this id.
   */
  recorded?(taskId: string): RecordedTask | undefined;
  /**
   * The value a task of the session returned before this head started (a finished task's
   * recorded result), for a driver that reconnects and asks for it; undefined when there is none.
   */
  result?(taskId: string): Payload | undefined;
}

/** An actor of a resumed session, as its last creation was recorded (TaskAdoption.actor). */
export interface AdoptableActor {
  /** Its creation (kind `actor-create`, with `actor` and `actorOptions`, the namespace filled in). */
  readonly spec: TaskSubmission;
  readonly jobId: string;
  readonly attempt: number;
  /** Restarts it used under earlier heads (they count against its `maxRestarts`). */
  readonly numRestarts: number;
  /** Its constructor had finished; otherwise its result is still to come from the agent. */
  readonly created: boolean;
}

/** A task rebuilt from its session record: its spec with code and arguments, or why it cannot be rebuilt. */
export type RecordedTask = RetryCandidate;

/** Head settings. */
export interface HeadOptions {
  /** How long a request no node can satisfy waits for one to join (ms). */
  readonly infeasibleGraceMs?: number;
  readonly placementRules?: readonly PlacementRule[];
  /** Where the head's own warnings go (default: stderr). */
  readonly log?: (line: string) => void;
  /** A service head: agents outlive it for `graceS` seconds so a restarted head reattaches (see BackendHost.durable). */
  readonly durable?: { readonly graceS: number; readonly runDir: string; readonly reattach: boolean };
  /** Bytes of object values the head keeps in memory before spilling to disk (default: 30% of RAM). */
  readonly objectStoreMemory?: number;
  /** Where spilled values go (default: `spill` in the head's private process folder, see core/runtime-dir.ts). */
  readonly spillDir?: string;
  /** Finished task records kept once their results are freed (default 100,000; see TaskManager.retire). */
  readonly keepFinishedTasks?: number;
  /** Where the secrets tasks name with `secret(name)` are read when they are dispatched (default: the OS keychain). */
  readonly secrets?: SecretSource;
  /** Whether backends a client driver adds may be `module:` ones, and from where (default: refused). */
  readonly driverModules?: ModulePolicy;
  /** How long one backend's shutdown may take before it is reported and given up (default 30 s). */
  readonly backendShutdownTimeoutMs?: number;
  /** The session's budget for paid jobs, in US dollars (control/spend-ledger.ts). */
  readonly budget?: { readonly usd: number };
  /** A head resuming a session: which tasks that agents report it adopts. */
  readonly adoption?: TaskAdoption;
}
