/** The records a head writes into a session and the rows a reader returns. Times are ms since the epoch. */

/**
 * Lifecycle of a session.
 * - `running`: a head is recording it (or was, and the reader found its process alive).
 * - `finished`: the recorder was closed normally.
 * - `crashed`: marked `running` but the recording process is gone (killed, crashed), or closed as crashed.
 */
export type SessionStatus = 'running' | 'finished' | 'crashed';

/** Task states after which a task does not change again. */
export const FINAL_TASK_STATES: readonly string[] = ['FINISHED', 'FAILED'];

/**
 * The task fact (`task_info` key) set when values of a task's arguments or options were redacted
 * before they were recorded: a resumed head does not submit such a task again from the session.
 */
export const VALUES_REDACTED = 'valuesRedacted';

/**
 * Task info key of an actor's creation: its descriptor and options (name, namespace, lifetime,
 * maxRestarts) as JSON, so that a resumed head can adopt the actor or create it again.
 */
export const ACTOR_CREATION = 'actorCreation';

/** What a person wrote about a session (session-labels.ts). `title` null: shown by its name. */
export interface SessionLabels {
  readonly title: string | null;
  /** Free notes, several lines. */
  readonly notes: string;
  readonly tags: readonly string[];
}

/** Session-wide facts kept in the `meta` table; the labels a person gave it included. */
export interface SessionMetadata extends SessionLabels {
  readonly name: string;
  readonly createdAt: number;
  readonly endedAt: number | null;
  readonly status: SessionStatus;
  /** The status as stored, before the dead-process check (`running` for a crashed head). */
  readonly storedStatus: SessionStatus;
  readonly orreryVersion: string;
  /** Process and host of the head that recorded it last. */
  readonly pid: number;
  readonly hostname: string;
  /** The head's config (backend configs name secrets, never hold them). */
  readonly config: unknown;
  readonly placementRules: unknown;
  /** Config keys dropped because they looked like secret values. */
  readonly strippedConfigKeys: readonly string[];
  readonly schemaVersion: number;
}

/** A remote function or actor class, stored once per hash. */
export interface FunctionRecord {
  readonly hash: string;
  readonly name: string;
  /** `function`, `actor-class`, `command`, `circuit`... */
  readonly kind: string;
  readonly source: string;
}

/** A task as submitted. */
export interface TaskSubmitRecord {
  readonly taskId: string;
  readonly name: string;
  /** `task`, `actor-create` or `actor-call` (TaskSubmission.kind). */
  readonly kind: string;
  readonly variant?: string;
  readonly functionHash?: string;
  readonly actorId?: string;
  readonly method?: string;
  /** Short text preview of the arguments; cut to 200 characters. */
  readonly argsPreview?: string;
  /** The arguments as JSON-able data; kept when their JSON is at most 4 KiB. Values under secret-looking keys are redacted. */
  readonly params?: unknown;
  readonly parentTaskId?: string;
  /** Normalized task options; values under secret-looking keys are redacted. */
  readonly options?: unknown;
  readonly ts?: number;
  /** Initial state; `PENDING_ARGS_AVAIL` when left out. */
  readonly state?: string;
  /** The job (driver run) that submitted it. */
  readonly jobId?: string;
}

/** One state change of a task. */
export interface TaskStateRecord {
  readonly state: string;
  readonly ts?: number;
  readonly nodeId?: string;
  readonly backend?: string;
  /** Index of the placement rule that chose the node. */
  readonly ruleIndex?: number;
  readonly attempt?: number;
  readonly errorName?: string;
  readonly errorMessage?: string;
  /** Execution time measured by the worker. */
  readonly execMs?: number;
}

/** The current row of a task in a session (the State API's live row is protocol/state-rows.ts TaskRow). */
export interface SessionTaskRow {
  readonly seq: number;
  readonly taskId: string;
  readonly name: string;
  readonly kind: string;
  readonly variant: string | null;
  readonly functionHash: string | null;
  readonly actorId: string | null;
  readonly method: string | null;
  readonly argsPreview: string | null;
  readonly paramsJson: string | null;
  readonly parentTaskId: string | null;
  readonly optionsJson: string | null;
  readonly state: string;
  readonly submittedAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly nodeId: string | null;
  readonly backend: string | null;
  readonly ruleIndex: number | null;
  readonly attempt: number;
  readonly errorName: string | null;
  readonly errorMessage: string | null;
  readonly execMs: number | null;
  /** The job (driver run) that submitted it; null in sessions of schema version 2 and older. */
  readonly jobId?: string | null;
}

/** An actor as a resumed head sees it (SessionReader.actorLives). */
export interface SessionActorLife {
  readonly actorId: string;
  /** Its latest creation task (its class by `functionHash`, constructor arguments, options). */
  readonly creation: SessionTaskRow;
  /** Its latest recorded state (`ALIVE`, `RESTARTING`, `DEAD`...); null when none was recorded. */
  readonly state: string | null;
  /** Restarts recorded for it, under every head of the session. */
  readonly numRestarts: number;
}

/** One recorded change of an actor. */
export interface SessionActorEvent {
  readonly ts: number;
  readonly state: string;
  readonly nodeId: string | null;
  /** Why: the restart and its reason, how it died, which node it was adopted on. */
  readonly detail: string | null;
}

/** One entry of a task's event log. */
export interface TaskEventRow {
  readonly taskId: string;
  readonly ts: number;
  readonly state: string;
  readonly nodeId: string | null;
  readonly backend: string | null;
  readonly ruleIndex: number | null;
  readonly attempt: number | null;
  readonly errorName: string | null;
  readonly errorMessage: string | null;
}

/** An actor's creation or state change. */
export interface ActorRecord {
  readonly actorId: string;
  readonly className: string;
  readonly name?: string;
  readonly state: string;
  readonly nodeId?: string;
  readonly detail?: string;
  readonly ts?: number;
}

/** An object the head tracks. `location` says where it is stored (node id, `head`, `spilled`...). */
export interface ObjectRecord {
  readonly objectId: string;
  readonly size: number;
  readonly ownerTaskId?: string;
  readonly location?: string;
  readonly ts?: number;
}

/** A node joining or leaving. */
export interface NodeRecord {
  readonly nodeId: string;
  /** `join` and `leave` update the node row; anything else is only logged. */
  readonly event: 'join' | 'leave' | (string & {});
  readonly backend?: string;
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly detail?: string;
  readonly ts?: number;
}

/** A log line from a task or a node. */
export interface LogRecord {
  readonly taskId?: string;
  readonly nodeId?: string;
  /** `stdout`, `stderr`, `orrery` (notes from the recorder)... */
  readonly stream: string;
  readonly text: string;
  readonly ts?: number;
  /** The attempt of the task that printed it (0 first), so a replay separates retries. */
  readonly attempt?: number;
}

/** A stored log line. */
export interface LogRow {
  readonly taskId: string | null;
  readonly nodeId: string | null;
  readonly stream: string;
  readonly ts: number;
  readonly text: string;
  /** The attempt that printed it; null for lines of sessions before schema version 4 and for node lines. */
  readonly attempt: number | null;
}

/** A stored result. `bytes` is read from the results file when it was too large to inline. */
export interface ResultRow {
  readonly taskId: string;
  /** `v8`, `json`, `text`, `bytes`, or a typed array name for raw typed-array bytes. */
  readonly contentType: string;
  readonly size: number;
  readonly bytes: Uint8Array;
  /** Path of the results file, or null when inline. */
  readonly file: string | null;
}

/** A remote job a task runs as (a Slurm job, a SageMaker training job, a quantum task). */
export interface RemoteJobRow {
  readonly taskId: string;
  readonly taskName: string;
  readonly backend: string;
  readonly remoteJobId: string;
  readonly state: string;
  readonly ts: number;
}

/** Counts and cost over a whole session. */
export interface SessionSummary {
  readonly total: number;
  readonly byState: Readonly<Record<string, number>>;
  /** Per task name, how many tasks are in each state. */
  readonly byName: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Sum of the `costUsd` task facts. */
  readonly totalCostUsd: number;
  /** Sum of the `billableSeconds` task facts. */
  readonly totalBillableSeconds: number;
}
